/**
 * The embedded driver: ClickHouse in-process through chdb. libchdb binds one
 * data directory per process, so the process that opens this store owns it;
 * other processes read through the collector's HTTP API.
 */
import { mkdirSync } from 'node:fs';
import { Session, drainPending } from 'chdb';
import { StoreError } from './errors.js';
import { INSERT_SETTINGS, dedupSettings, SESSION_SETTINGS, assertSettingName, assertTableName } from './settings.js';
import type { InsertOptions, InsertResult, QueryParams, RawFormat, Store } from './types.js';

export async function openEmbeddedStore(path: string): Promise<Store> {
  mkdirSync(path, { recursive: true });
  let session: Session;
  try {
    session = new Session(path);
  } catch (err) {
    throw toStoreError(err);
  }
  const store = new EmbeddedStore(session);
  // Session-level settings persist on the connection: set them once.
  for (const [name, value] of Object.entries(SESSION_SETTINGS)) {
    await store.exec(`SET ${assertSettingName(name)} = ${typeof value === 'number' ? value : `'${value}'`}`);
  }
  return store;
}

class EmbeddedStore implements Store {
  readonly driver = 'embedded' as const;
  constructor(private readonly session: Session) {}

  async exec(sql: string, params?: QueryParams): Promise<void> {
    try {
      if (hasParams(params)) await this.session.queryBindAsync(sql, params, { format: 'CSV' });
      else await this.session.queryAsync(sql, { format: 'CSV' });
    } catch (err) {
      throw toStoreError(err);
    }
  }

  async query<T>(sql: string, params?: QueryParams): Promise<T[]> {
    let text: string;
    try {
      const result = hasParams(params)
        ? await this.session.queryBindAsync(sql, params, { format: 'JSONEachRow' })
        : await this.session.queryAsync(sql, { format: 'JSONEachRow' });
      text = result.text();
    } catch (err) {
      throw toStoreError(err);
    }
    return parseJSONEachRow<T>(text);
  }

  async queryRaw(sql: string, params: QueryParams | undefined, format: RawFormat): Promise<Buffer> {
    try {
      const result = hasParams(params) ? await this.session.queryBindAsync(sql, params, { format }) : await this.session.queryAsync(sql, { format });
      const bytes = result.bytes();
      return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    } catch (err) {
      throw toStoreError(err);
    }
  }

  async insertNDJSON(table: string, body: Buffer | string, opts?: InsertOptions): Promise<InsertResult> {
    try {
      const summary = await this.session.insert({
        table: assertTableName(table),
        values: body,
        format: 'JSONEachRow',
        settings: { ...INSERT_SETTINGS, ...opts?.settings, ...dedupSettings(opts) },
      });
      return { rowsWritten: summary.rowsWritten };
    } catch (err) {
      throw toStoreError(err);
    }
  }

  async ping(): Promise<boolean> {
    if (!this.session.open) return false;
    try {
      await this.session.queryAsync('SELECT 1', { format: 'CSV' });
      return true;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    this.session.close();
    // close() may defer while native work is in flight; wait so the directory is really free.
    await drainPending();
  }
}

function hasParams(params: QueryParams | undefined): params is QueryParams {
  return params !== undefined && Object.keys(params).length > 0;
}

export function parseJSONEachRow<T>(text: string): T[] {
  const rows: T[] = [];
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    if (end > start) rows.push(JSON.parse(text.slice(start, end)) as T);
    start = end + 1;
  }
  return rows;
}

interface ChdbLikeError {
  code?: unknown;
  clickhouseCode?: unknown;
  message?: unknown;
}

function toStoreError(err: unknown): StoreError {
  if (err instanceof StoreError) return err;
  const e = (err ?? {}) as ChdbLikeError;
  const code = typeof e.code === 'string' ? e.code : 'CHDB_UNKNOWN';
  const chCode = typeof e.clickhouseCode === 'number' ? e.clickhouseCode : undefined;
  const message = typeof e.message === 'string' ? e.message : String(err);
  return new StoreError('embedded', code, message, chCode, { cause: err });
}
