/** `mcptrail migrate`: apply pending schema migrations to the configured store. */
import { openStore, migrate } from '../store/index.js';
import type { CliConfig } from './config.js';

export async function migrateCommand(config: CliConfig, json: boolean): Promise<string> {
  const store = await openStore({ url: config.clickhouseUrl, dataDir: config.dataDir });
  try {
    const applied = await migrate(store);
    if (json) return JSON.stringify({ driver: store.driver, applied }, null, 2);
    const where = config.clickhouseUrl ?? `${config.dataDir} (embedded)`;
    return applied.length === 0 ? `schema is up to date (${where})` : applied.map((m) => `applied ${m.version} ${m.name}`).join('\n') + `\n(${where})`;
  } finally {
    await store.close();
  }
}
