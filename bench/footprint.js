/**
 * §7 What `npm install mcptrail` costs a server: fresh projects outside the
 * workspace, installed from the registry (npm cache first), with
 *   (a) `@modelcontextprotocol/sdk` alone,
 *   (b) (a) + the packed `mcptrail` tarball (npm pack of packages/mcptrail),
 *   (c) (b) + `@opentelemetry/sdk-node`, the optional peer startTelemetry() uses when present.
 * node_modules is measured apparent (`du -sk --apparent-size`) and on disk
 * (`du -sk`). Import time: a fresh process per run times
 * `await import(...)` of the SDK's server modules, then of mcptrail too;
 * variants interleaved, median (min–max) of BENCH_FOOTPRINT_RUNS runs (default 9).
 *
 *   node bench/footprint.js     (after `npm run build` at the root)
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QUICK, ROOT, fmt, median, mdTable } from './lib.js';

const RUNS = QUICK ? 3 : Number(process.env.BENCH_FOOTPRINT_RUNS ?? 9);
const version = (pkg) => JSON.parse(readFileSync(join(ROOT, 'node_modules', pkg, 'package.json'), 'utf8')).version;


function kib(dir, apparent) {
  const out = execFileSync('du', ['-sk', ...(apparent ? ['--apparent-size'] : []), join(dir, 'node_modules')]).toString();
  return Number(out.split(/\s/)[0]);
}

function project(name, dependencies) {
  const dir = mkdtempSync(join(tmpdir(), `mcptrail-footprint-${name}-`));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `footprint-${name}`, private: true, type: 'module', dependencies }));
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] });
  return { name, dir, apparentKiB: kib(dir, true), onDiskKiB: kib(dir, false), packages: Number(execFileSync('sh', ['-c', 'find node_modules -name package.json -not -path "*/node_modules/*/node_modules/*/*" | wc -l'], { cwd: dir }).toString().trim()) };
}

const SDK_IMPORTS = "await import('@modelcontextprotocol/sdk/server/mcp.js'); await import('@modelcontextprotocol/sdk/server/streamableHttp.js');";
const PROBES = {
  sdk: SDK_IMPORTS,
  'sdk+mcptrail': `${SDK_IMPORTS} await import('mcptrail');`,
};

function importMs(dir, code) {
  const script = `const t0 = performance.now(); ${code} process.stdout.write(String(performance.now() - t0));`;
  return Number(execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: dir }).toString());
}

export async function measure() {
  const scratch = mkdtempSync(join(tmpdir(), 'mcptrail-footprint-pack-'));
  const packed = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', scratch], { cwd: join(ROOT, 'packages', 'mcptrail') }).toString())[0];
  const tarball = join(scratch, packed.filename);
  const sdk = { '@modelcontextprotocol/sdk': version('@modelcontextprotocol/sdk') };
  const projects = [
    project('sdk', sdk),
    project('sdk-mcptrail', { ...sdk, mcptrail: `file:${tarball}` }),
    project('sdk-mcptrail-sdknode', { ...sdk, mcptrail: `file:${tarball}`, '@opentelemetry/sdk-node': version('@opentelemetry/sdk-node') }),
  ];
  // Import times in the (b) project (it has both); rounds interleave the variants.
  const times = Object.fromEntries(Object.keys(PROBES).map((k) => [k, []]));
  const probeDir = projects[1].dir;
  for (const code of Object.values(PROBES)) importMs(probeDir, code); // warm the file cache
  for (let r = 0; r < RUNS; r++) for (const [k, code] of Object.entries(PROBES)) times[k].push(importMs(probeDir, code));
  for (const p of projects) rmSync(p.dir, { recursive: true, force: true });
  rmSync(scratch, { recursive: true, force: true });
  const stats = (xs) => ({ median: median(xs), min: Math.min(...xs), max: Math.max(...xs), runs: xs });
  const imports = Object.fromEntries(Object.entries(times).map(([k, xs]) => [k, stats(xs)]));
  const base = projects[0];
  return {
    tarball: { file: packed.filename, packedKiB: packed.size / 1024, unpackedKiB: packed.unpackedSize / 1024, files: packed.entryCount },
    projects: projects.map(({ name, apparentKiB, onDiskKiB, packages }) => ({ name, apparentKiB, onDiskKiB, packages, addedApparentKiB: apparentKiB - base.apparentKiB, addedOnDiskKiB: onDiskKiB - base.onDiskKiB })),
    imports,
    importRatio: imports['sdk+mcptrail'].median / imports.sdk.median,
    importRatios: times['sdk+mcptrail'].map((t, i) => t / times.sdk[i]),
    runs: RUNS,
  };
}

export function table(r) {
  const mb = (k) => fmt(k / 1024, 1);
  const label = { sdk: '(a) `@modelcontextprotocol/sdk` alone', 'sdk-mcptrail': '(b) (a) + packed `mcptrail`', 'sdk-mcptrail-sdknode': '(c) (b) + `@opentelemetry/sdk-node` (optional peer)' };
  const size = mdTable(
    ['project', 'node_modules apparent MB', 'added MB', 'on disk MB', 'added MB', 'packages'],
    r.projects.map((p) => [label[p.name], mb(p.apparentKiB), p.name === 'sdk' ? '—' : `+${mb(p.addedApparentKiB)}`, mb(p.onDiskKiB), p.name === 'sdk' ? '—' : `+${mb(p.addedOnDiskKiB)}`, p.packages]),
  );
  const ms = (s) => `${fmt(s.median)} (${fmt(s.min)}–${fmt(s.max)})`;
  const ratios = r.importRatios;
  const imports = mdTable(
    ['import (fresh process)', `ms, median (min–max) of ${r.runs}`],
    [
      ['SDK server + Streamable HTTP transport', ms(r.imports.sdk)],
      ['the same + `mcptrail`', ms(r.imports['sdk+mcptrail'])],
      ['**ratio** (median of the medians; per-run min–max)', `**${fmt(r.importRatio, 2)}×** (${fmt(Math.min(...ratios), 2)}–${fmt(Math.max(...ratios), 2)})`],
    ],
  );
  return `Tarball \`${r.tarball.file}\`: ${fmt(r.tarball.packedKiB)} KiB packed, ${fmt(r.tarball.unpackedKiB)} KiB unpacked, ${r.tarball.files} files.\n\n${size}\n\n${imports}`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const result = await measure();
  console.log(JSON.stringify(result, null, 2));
  process.send?.({ result });
}
