/**
 * `npm run dashboards`: regenerates dashboards/*.json and dashboards/provisioning/**.
 * `npm run dashboards -- --check`: exits 1 when the committed files are stale.
 */
import { fileURLToPath } from 'node:url';
import { dirname, resolve } from 'node:path';
import { checkArtifacts, writeArtifacts } from '../packages/collector/src/dashboards/render.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

if (process.argv.includes('--check')) {
  const stale = await checkArtifacts(root);
  if (stale.length > 0) {
    process.stderr.write(`stale generated files (run \`npm run dashboards\`):\n${stale.map((p) => `  ${p}`).join('\n')}\n`);
    process.exit(1);
  }
  process.stdout.write('dashboards and provisioning are up to date\n');
} else {
  for (const path of await writeArtifacts(root)) process.stdout.write(`wrote ${path}\n`);
}
