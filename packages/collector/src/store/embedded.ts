/**
 * The embedded driver: ClickHouse in-process through chdb. libchdb binds one
 * data directory per process, so the process that opens this store owns it;
 * other processes read through the collector's HTTP API.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
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
  // Insert payloads pass through files here (see insertNDJSON); a crash can leave some behind.
  // file() reads its path as a glob: a directory whose name holds glob characters keeps the raw insert.
  let staging: string | undefined = join(path, 'insert-staging');
  if (/[*?{}[\]]/.test(staging)) staging = undefined;
  else {
    rmSync(staging, { recursive: true, force: true });
    mkdirSync(staging, { recursive: true });
  }
  const store = new EmbeddedStore(session, staging);
  // Session-level settings persist on the connection: set them once.
  for (const [name, value] of Object.entries(SESSION_SETTINGS)) {
    await store.exec(`SET ${settingsClause({ [name]: value })}`);
  }
  return store;
}

class EmbeddedStore implements Store {
  readonly driver = 'embedded' as const;
  constructor(
    private readonly session: Session,
    private readonly staging: string | undefined,
  ) {}

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

  /**
   * The payload is written to a file in the store's directory and inserted with
   * `INSERT ... SELECT * FROM file(...)`, not handed to chdb's raw insert: for the same 5,000 rows that cost
   * about 40 % less CPU and 20 % less time (bench/ingest.js, BENCHMARKS.md §3). The engine reads the file
   * with the target table's structure, so what is stored is what a raw JSONEachRow insert would store; the
   * dedup token and settings apply to the insert as before.
   */
  async insertNDJSON(table: string, body: Buffer | string, opts?: InsertOptions): Promise<InsertResult> {
    const target = assertTableName(table);
    const settings = { ...INSERT_SETTINGS, ...opts?.settings, ...dedupSettings(opts) };
    if (this.staging === undefined) return this.rawInsert(target, body, settings);
    if (body.length === 0) return { rowsWritten: 0 };
    const file = join(this.staging, `${randomUUID()}.ndjson`);
    try {
      await writeFile(file, body);
      await this.session.queryAsync(`INSERT INTO ${target} SETTINGS ${settingsClause(settings)} SELECT * FROM file(${sqlString(file)}, 'JSONEachRow')`, { format: 'CSV' });
      // The engine does not report written rows for INSERT ... SELECT here; no caller needs them.
      return { rowsWritten: undefined };
    } catch (err) {
      throw toStoreError(err);
    } finally {
      await unlink(file).catch(() => {});
    }
  }

  private async rawInsert(table: string, body: Buffer | string, settings: Record<string, string | number | boolean>): Promise<InsertResult> {
    try {
      const summary = await this.session.insert({ table, values: body, format: 'JSONEachRow', settings });
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

/** `name = value, ...` for a SETTINGS clause: names checked, strings quoted. */
function settingsClause(settings: Record<string, string | number | boolean>): string {
  return Object.entries(settings)
    .map(([name, value]) => `${assertSettingName(name)} = ${typeof value === 'string' ? sqlString(value) : typeof value === 'boolean' ? Number(value) : value}`)
    .join(', ');
}

/** A ClickHouse string literal. */
function sqlString(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
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
