/** `mcptrail migrate`: apply pending schema migrations and the retention (table TTLs) to the configured store. */
import { openStore, migrateWithRetention, MIGRATIONS, type Retention } from '../store/index.js';
import type { CliConfig } from './config.js';

export async function migrateCommand(config: CliConfig, json: boolean, retention?: Retention): Promise<string> {
  const store = await openStore({ url: config.clickhouseUrl, dataDir: config.dataDir });
  try {
    const { applied, retention: changed } = await migrateWithRetention(store, MIGRATIONS, { retention });
    if (json) return JSON.stringify({ driver: store.driver, applied, retention: changed }, null, 2);
    const where = config.clickhouseUrl ?? `${config.dataDir} (embedded)`;
    const ttl = (days: number) => (days === 0 ? 'no TTL' : days < 0 ? 'another TTL' : `${days} days`);
    const lines = [
      ...applied.map((m) => `applied ${m.version} ${m.name}`),
      ...changed.map((r) => `TTL of ${r.table}: ${ttl(r.fromDays)} → ${ttl(r.toDays)}`),
    ];
    return lines.length === 0 ? `schema is up to date (${where})` : `${lines.join('\n')}\n(${where})`;
  } finally {
    await store.close();
  }
}
