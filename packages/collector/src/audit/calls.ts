/** "Which agent ran this tool, for which tenant, with what outcome": reads of `tool_calls`. */
import type { CallRecord } from 'mcptrail/record';
import { TABLES, type QueryParams, type Store } from '../store/index.js';
import { CURSOR_PATTERN, DEFAULT_LIMIT, DEFAULT_SINCE, MAX_LIMIT, type CallFilter } from './filters.js';
import { parseSince } from './since.js';

/**
 * Optional predicates, each a constant SQL fragment with a bound parameter:
 * the filter decides which fragments apply, never what text they contain.
 */
const PREDICATES = {
  tool: 'tool = {tool:String}',
  tenant: 'tenant_id = {tenant:String}',
  agent: 'agent_id = {agent:String}',
  client: 'client_name = {client:String}',
  outcome: 'outcome = {outcome:String}',
  // The n-gram index of migration 8 is on lower(intent): the predicate names the same expression.
  intent: 'lower(intent) LIKE {intent:String}',
} as const satisfies Partial<Record<keyof CallFilter, string>>;

/** A LIKE pattern matching any text that contains `text` (lower-cased; LIKE's own wildcards escaped). */
export function containsPattern(text: string): string {
  return `%${text.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** The logical call a record belongs to (records written before migration 7 are their own). */
export const LOGICAL_CALL_SQL = "if(logical_call_id = '', toString(call_id), logical_call_id)";

/** Newest first; one row per logical call (its latest round) unless `rounds: 'all'`. */
export async function listCalls(store: Store, filter: CallFilter = {}): Promise<CallRecord[]> {
  const limit = filter.limit ?? DEFAULT_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) throw new RangeError(`limit must be an integer from 1 to ${MAX_LIMIT}`);
  const params: QueryParams = { since: parseSince(filter.since ?? DEFAULT_SINCE), limit };
  const where = ['ts >= now64(3) - toIntervalSecond({since:UInt32})'];
  for (const key of Object.keys(PREDICATES) as (keyof typeof PREDICATES)[]) {
    const value = filter[key];
    if (value === undefined || value === '') continue;
    where.push(PREDICATES[key]);
    params[key] = key === 'intent' ? containsPattern(value) : value;
  }
  let cursor: string | undefined;
  if (filter.before !== undefined) {
    const parsed = CURSOR_PATTERN.exec(filter.before);
    if (!parsed) throw new RangeError('before must be a cursor <epoch ms>_<call_id>');
    cursor = "(ts, call_id) < (fromUnixTimestamp64Milli({beforeMs:Int64}, 'UTC'), toUUID({beforeId:String}))";
    params.beforeMs = Number(parsed[1]);
    params.beforeId = parsed[2]!;
  }
  // call_id breaks ties between calls of the same millisecond, so keyset pages neither skip nor repeat.
  const order = 'ORDER BY ts DESC, call_id DESC';
  if (filter.rounds === 'all') {
    if (cursor) where.push(cursor);
    return store.query<CallRecord>(`SELECT * FROM ${TABLES.toolCalls} WHERE ${where.join(' AND ')} ${order} LIMIT {limit:UInt32}`, params);
  }
  // One row per logical call (its last round). The cursor applies to those rows, after the fold: an
  // earlier round of a call shown on a newer page must not come back as a row of its own.
  // LIMIT BY sorts every matching row (no top-N), so the fold and the page are found on the key columns
  // alone, and only the page's rows are read whole (BENCHMARKS.md §4, "who ran tool X anywhere").
  const conditions = where.join(' AND ');
  const folded = `SELECT ts, call_id FROM ${TABLES.toolCalls} WHERE ${conditions} ${order} LIMIT 1 BY ${LOGICAL_CALL_SQL}`;
  const page = cursor ? `SELECT ts, call_id FROM (${folded}) WHERE ${cursor} ${order} LIMIT {limit:UInt32}` : `${folded} LIMIT {limit:UInt32}`;
  return store.query<CallRecord>(
    `SELECT * FROM ${TABLES.toolCalls} WHERE ${conditions} AND (ts, call_id) IN (${page}) ${order} LIMIT 1 BY call_id LIMIT {limit:UInt32}`,
    params,
  );
}

/** A time window, epoch milliseconds, both ends inclusive. */
export interface TimeWindowMs {
  fromMs: number;
  toMs: number;
}

/**
 * The audit records of one trace, oldest first; only `tenant`'s when given.
 * With `window`, only records whose `ts` falls in it: the read then prunes the
 * daily partitions (and granules) by time instead of checking the trace-id
 * bloom filter of every partition.
 */
export async function callsForTrace(
  store: Store,
  traceId: string,
  limit = MAX_LIMIT,
  tenant?: string,
  window?: TimeWindowMs,
): Promise<CallRecord[]> {
  const params: QueryParams = { traceId, limit };
  let where = 'trace_id = {traceId:String}';
  if (tenant !== undefined) {
    where += ' AND tenant_id = {tenant:String}';
    params.tenant = tenant;
  }
  if (window !== undefined) {
    where += ' AND ts >= fromUnixTimestamp64Milli({fromMs:Int64}) AND ts <= fromUnixTimestamp64Milli({toMs:Int64})';
    params.fromMs = Math.floor(window.fromMs);
    params.toMs = Math.ceil(window.toMs);
  }
  return store.query<CallRecord>(`SELECT * FROM ${TABLES.toolCalls} WHERE ${where} ORDER BY ts LIMIT {limit:UInt32}`, params);
}
