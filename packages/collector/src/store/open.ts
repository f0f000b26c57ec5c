import { join, resolve } from 'node:path';
import { openEmbeddedStore } from './embedded.js';
import { openHttpStore } from './http.js';
import type { OpenStoreOptions, Store } from './types.js';

export const DEFAULT_DATA_DIR = './.mcptrail';

/** The http driver when a ClickHouse URL is configured, else embedded chdb under the data directory. */
export async function openStore(opts: OpenStoreOptions = {}): Promise<Store> {
  const url = opts.url ?? (process.env.MCPTRAIL_CLICKHOUSE_URL || undefined);
  if (url) {
    return openHttpStore({ url, username: opts.username, password: opts.password, database: opts.database });
  }
  return openEmbeddedStore(embeddedPath(opts.dataDir));
}

/** Where the embedded engine keeps its files. */
export function embeddedPath(dataDir?: string): string {
  return resolve(join(dataDir ?? (process.env.MCPTRAIL_DATA_DIR || DEFAULT_DATA_DIR), 'clickhouse'));
}
