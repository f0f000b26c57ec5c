/**
 * Exports of `tool_calls`, page by page in (ts, call_id) order, for
 * `mcptrail export` and `GET /api/export`.
 *
 * The cursor is a position in that order: "after (ts, call_id)" once a page
 * ended on a row, "from ts" once a time window ran out. Pages never overlap
 * and never skip a row stored at read time, so a reader that re-asks a cursor
 * after a cut connection gets that page again (duplicates of the rows it had
 * already read, with the same call_id) and nothing is lost. A record stored
 * later with a `ts` the cursor has passed (a shipper replaying its spool after
 * an outage) is not in a later page: pull an overlapping window again and drop
 * duplicates by call_id.
 *
 * Memory stays bounded whatever the range: each page reads its keys within a
 * time window that halves after a full page and doubles while a page is short,
 * so the engine sorts about one or two pages of rows per query, and the page itself holds
 * at most `limit` rows.
 */
import { TABLES, type QueryParams, type RawFormat, type Store } from '../store/index.js';

export type ExportFormat = 'ndjson' | 'parquet';
export const EXPORT_FORMATS: readonly ExportFormat[] = ['ndjson', 'parquet'];
export const DEFAULT_EXPORT_LIMIT = 10_000;
export const MAX_EXPORT_LIMIT = 100_000;

const ENGINE_FORMAT: Record<ExportFormat, RawFormat> = { ndjson: 'JSONEachRow', parquet: 'Parquet' };
const FIRST_WINDOW_MS = 3_600_000;
const MIN_WINDOW_MS = 1_000;
const MAX_WINDOW_MS = 400 * 86_400_000;
/** Doublings of the key window per page; beyond them a page is answered short (and the next starts wider). */
const MAX_WIDENINGS = 40;

export interface ExportRange {
  /** One tenant; omitted: every tenant (an operator's export). */
  tenant?: string;
  /** Inclusive, epoch ms. */
  sinceMs: number;
  /** Exclusive, epoch ms. */
  untilMs: number;
}

export interface ExportKey {
  ts: string;
  callId: string;
}

export interface ExportPage {
  format: ExportFormat;
  /** The engine's output: JSONEachRow lines, or one Parquet file. */
  body: Buffer;
  rows: number;
  first?: ExportKey;
  last?: ExportKey;
  /** Where the next page starts; absent once the range is exhausted. */
  next?: string;
  complete: boolean;
}

interface Position {
  /** Epoch ms. */
  t: number;
  /** After this call id at `t`; absent: from `t` inclusive. */
  id?: string;
  /** The key window to try next, ms. */
  w: number;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function encodeCursor(p: Position): string {
  return Buffer.from(JSON.stringify({ v: 1, t: p.t, ...(p.id ? { id: p.id } : {}), w: p.w })).toString('base64url');
}

/** Throws a RangeError for anything that is not a cursor this module made. */
export function decodeCursor(token: string): Position {
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw new RangeError('cursor is not valid');
  }
  const c = raw as { v?: unknown; t?: unknown; id?: unknown; w?: unknown };
  const ok =
    typeof c === 'object' &&
    c !== null &&
    c.v === 1 &&
    Number.isSafeInteger(c.t) &&
    (c.t as number) >= 0 &&
    (c.id === undefined || (typeof c.id === 'string' && UUID.test(c.id))) &&
    Number.isSafeInteger(c.w) &&
    (c.w as number) >= MIN_WINDOW_MS &&
    (c.w as number) <= MAX_WINDOW_MS;
  if (!ok) throw new RangeError('cursor is not valid');
  return { t: c.t as number, id: c.id as string | undefined, w: c.w as number };
}

export async function readExportPage(
  store: Store,
  range: ExportRange,
  cursor: string | undefined,
  opts: { limit?: number; format?: ExportFormat } = {},
): Promise<ExportPage> {
  const limit = opts.limit ?? DEFAULT_EXPORT_LIMIT;
  const format = opts.format ?? 'ndjson';
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_EXPORT_LIMIT) throw new RangeError(`limit must be an integer from 1 to ${MAX_EXPORT_LIMIT}`);
  if (!(range.untilMs > range.sinceMs)) throw new RangeError('until must be after since');
  let pos: Position = cursor ? decodeCursor(cursor) : { t: range.sinceMs, w: FIRST_WINDOW_MS };
  if (pos.t < range.sinceMs) pos = { t: range.sinceMs, w: pos.w };
  const empty = (next?: Position): ExportPage => ({ format, body: Buffer.alloc(0), rows: 0, next: next && encodeCursor(next), complete: next === undefined });

  if (pos.t >= range.untilMs) return empty();
  const scope = scopeSql(range.tenant, pos);
  // Widen the key window until it holds a full page or reaches `until`: pages come out full, each key
  // read sorts at most about twice a page of rows.
  let hi = Math.min(range.untilMs, pos.t + pos.w);
  let keys: { t: number; id: string }[];
  for (let widened = 0; ; widened++) {
    keys = await store.query<{ t: number; id: string }>(
      `SELECT toUnixTimestamp64Milli(ts) AS t, toString(call_id) AS id FROM ${TABLES.toolCalls}
       WHERE ${scope.where} AND ts < fromUnixTimestamp64Milli({hi:Int64})
       ORDER BY ts, call_id LIMIT {limit:UInt32}`,
      { ...scope.params, hi, limit },
    );
    if (keys.length === limit || hi >= range.untilMs || widened >= MAX_WIDENINGS) break;
    pos = { ...pos, w: Math.min(MAX_WINDOW_MS, pos.w * 2) };
    hi = Math.min(range.untilMs, pos.t + pos.w);
  }
  const full = keys.length === limit;
  if (keys.length === 0) return empty(hi >= range.untilMs ? undefined : { t: hi, w: pos.w });
  const lastKey = keys[keys.length - 1]!;
  // A full page ends on its last key (the window had more); otherwise it takes the whole window.
  const upper: { where: string; params: QueryParams } = full
    ? { where: '(ts, call_id) <= (fromUnixTimestamp64Milli({lastT:Int64}), toUUID({lastId:String}))', params: { lastT: Number(lastKey.t), lastId: lastKey.id } }
    : { where: 'ts < fromUnixTimestamp64Milli({hi:Int64})', params: { hi } };
  const body = await store.queryRaw(
    `SELECT * FROM ${TABLES.toolCalls} WHERE ${scope.where} AND ${upper.where} ORDER BY ts, call_id`,
    { ...scope.params, ...upper.params },
    ENGINE_FORMAT[format],
  );
  const next: Position | undefined = full
    ? { t: Number(lastKey.t), id: lastKey.id, w: Math.max(MIN_WINDOW_MS, Math.floor(pos.w / 2)) }
    : hi >= range.untilMs
      ? undefined
      : { t: hi, w: pos.w };
  // NDJSON counts what was written (rows stored between the two reads included); Parquet counts the keys.
  const rows = format === 'ndjson' ? countLines(body) : keys.length;
  return {
    format,
    body,
    rows,
    first: key(keys[0]!),
    last: format === 'ndjson' && rows !== keys.length ? lastLineKey(body) : key(lastKey),
    next: next && encodeCursor(next),
    complete: next === undefined,
  };
}

function scopeSql(tenant: string | undefined, pos: Position): { where: string; params: QueryParams } {
  const params: QueryParams = { lo: pos.t };
  const where = ['ts >= fromUnixTimestamp64Milli({lo:Int64})'];
  if (pos.id) {
    where.push('(ts, call_id) > (fromUnixTimestamp64Milli({lo:Int64}), toUUID({afterId:String}))');
    params.afterId = pos.id;
  }
  if (tenant !== undefined) {
    where.unshift('tenant_id = {tenant:String}');
    params.tenant = tenant;
  }
  return { where: where.join(' AND '), params };
}

function key(k: { t: number; id: string }): ExportKey {
  return { ts: new Date(Number(k.t)).toISOString(), callId: k.id };
}

function countLines(body: Buffer): number {
  let n = 0;
  for (let i = body.indexOf(10); i !== -1; i = body.indexOf(10, i + 1)) n++;
  return n;
}

function lastLineKey(body: Buffer): ExportKey | undefined {
  const end = body.length - 1;
  const start = body.lastIndexOf(10, end - 1) + 1;
  if (end <= start) return undefined;
  const row = JSON.parse(body.subarray(start, end).toString('utf8')) as { ts: string; call_id: string };
  return { ts: row.ts, callId: row.call_id };
}
