/**
 * `mcptrail verify`: recompute a tenant's ledger chain and compare it with
 * what `tool_calls` holds now.
 *
 * 1. The chain, entry by entry in `seq` order (paged): consecutive sequence
 *    numbers, each `prev_digest` equal to the digest before it, each digest
 *    recomputed from the entry's own rows (audit/ledger-entry.ts), no two
 *    entries with one `seq` (a fork), and any published head the caller expects.
 * 2. The rows, one UTC day at a time, joined in the engine: the ledger's rows
 *    of that day against the stored rows of that day, with each stored row's
 *    digest recomputed by the engine from its column values. A row in the
 *    ledger and not stored is missing (or expired, once its TTL has passed); a
 *    stored row the ledger does not hold is added (unless it predates the
 *    ledger); a different digest or timestamp is changed; a second stored
 *    copy is duplicated. A row moved to another day shows on both days and is
 *    reported once, as changed.
 */
import { TABLES, TOOL_CALLS_TTL_DAYS, type QueryParams, type Store } from '../store/index.js';
import { entryDigest, GENESIS_DIGEST, type LedgerHead } from './ledger-entry.js';
import { LEDGER_COLUMNS_VERSION, rowDigestSql } from './row-digest.js';

const DAY_MS = 86_400_000;
/** Entries per chain read: each carries its rows (up to a batch), so a page holds at most ~500k row ids. */
const ENTRIES_PER_PAGE = 100;

export type RowProblemKind = 'missing' | 'changed' | 'added' | 'duplicated';

export interface RowProblem {
  kind: RowProblemKind;
  callId: string;
  /** The row's time as the ledger recorded it (or as stored, for an added row), ISO 8601. */
  ts: string;
  /** The ledger entry that covers the row. */
  seq?: number;
  detail?: string;
}

export interface ChainProblem {
  seq: number;
  problem: string;
}

export interface TenantVerification {
  tenant: string;
  ok: boolean;
  entries: number;
  /** Rows the checked entries cover, and stored rows looked at (both within the row-check window). */
  rowsInLedger: number;
  rowsStored: number;
  head?: LedgerHead;
  /** The first entry still in the ledger; above 1, the ones before it expired (or were removed: check a published head). */
  chainStartsAt?: number;
  chain: ChainProblem[];
  rows: RowProblem[];
  /** Problems found, by kind (the lists above stop at `maxListed`). */
  counts: Record<RowProblemKind, number>;
  /** Ledger rows no longer stored because their TTL passed: not missing. */
  expired: number;
  /** Stored rows older than the ledger itself (migration 6): not covered, not counted as added. */
  beforeLedger: number;
}

export interface VerifyReport {
  ok: boolean;
  checkedAt: string;
  /** Rows are compared from this time on (the chain is always checked whole). */
  since?: string;
  ledgerStartedAt?: string;
  tenants: TenantVerification[];
}

export interface VerifyOptions {
  /** One tenant; omitted: every tenant the ledger or the table knows. */
  tenant?: string;
  sinceMs?: number;
  nowMs?: number;
  ttlDays?: number;
  /** Published heads that must still be in the chain (same seq, same digest). */
  expect?: LedgerHead[];
  /** How many problem rows to name per tenant. Default 1,000. */
  maxListed?: number;
  /**
   * Lets batches in flight land both their rows and their entries (the collector's writer flush):
   * run before rows found outside the ledger are checked a second time.
   */
  settle?: () => Promise<void>;
}

interface EntryRow {
  seq: number;
  columnsVersion: number;
  prevDigest: string;
  digest: string;
  ingestedAtMs: number;
  callIds: string[];
  rowTsMs: number[];
  rowDigests: string[];
}

const ENTRIES_SQL = `
SELECT seq, columns_version AS columnsVersion, prev_digest AS prevDigest, digest,
       toUnixTimestamp64Milli(ingested_at) AS ingestedAtMs,
       arrayMap(c -> toString(c), call_ids) AS callIds,
       arrayMap(t -> toUnixTimestamp64Milli(t), row_ts) AS rowTsMs,
       row_digests AS rowDigests
FROM ${TABLES.ledger}
WHERE tenant_id = {tenant:String} AND seq > {after:UInt64}
ORDER BY seq
LIMIT ${ENTRIES_PER_PAGE}`;

export async function verifyLedger(store: Store, opts: VerifyOptions = {}): Promise<VerifyReport> {
  const nowMs = opts.nowMs ?? Date.now();
  const ledgerStartMs = await ledgerStartedAt(store);
  const tenants = opts.tenant !== undefined ? [opts.tenant] : await knownTenants(store);
  const results: TenantVerification[] = [];
  for (const tenant of tenants) results.push(await verifyTenant(store, tenant, { ...opts, nowMs }, ledgerStartMs));
  return {
    ok: results.every((r) => r.ok),
    checkedAt: new Date(nowMs).toISOString(),
    since: opts.sinceMs !== undefined ? new Date(opts.sinceMs).toISOString() : undefined,
    ledgerStartedAt: ledgerStartMs !== undefined ? new Date(ledgerStartMs).toISOString() : undefined,
    tenants: results,
  };
}

/** Each tenant's newest entry: what an operator publishes (and later passes back as `expect`). */
export async function ledgerHeads(store: Store, tenant?: string): Promise<LedgerHead[]> {
  const rows = await store.query<{ tenant: string; head_seq: number; digest: string; ingestedAt: string }>(
    `SELECT tenant_id AS tenant, max(seq) AS head_seq, argMax(digest, seq) AS digest, argMax(ingested_at, seq) AS ingestedAt
     FROM ${TABLES.ledger} ${tenant !== undefined ? 'WHERE tenant_id = {tenant:String}' : ''} GROUP BY tenant_id ORDER BY tenant_id`,
    tenant !== undefined ? { tenant } : undefined,
  );
  return rows.map((r) => ({ tenant: r.tenant, seq: Number(r.head_seq), digest: r.digest, ingestedAt: r.ingestedAt }));
}

async function verifyTenant(store: Store, tenant: string, opts: VerifyOptions & { nowMs: number }, ledgerStartMs: number | undefined): Promise<TenantVerification> {
  const maxListed = opts.maxListed ?? 1_000;
  const chain: ChainProblem[] = [];
  const versions = new Set<number>();
  let entries = 0;
  let prev: EntryRow | undefined;
  let chainStartsAt: number | undefined;
  let head: LedgerHead | undefined;
  const expected = new Map((opts.expect ?? []).filter((h) => h.tenant === tenant).map((h) => [h.seq, h]));
  const seen = new Set<number>();
  for (let after = 0; ; ) {
    const page = await store.query<EntryRow>(ENTRIES_SQL, { tenant, after });
    for (const raw of page) {
      const e = { ...raw, seq: Number(raw.seq), columnsVersion: Number(raw.columnsVersion), rowTsMs: raw.rowTsMs.map(Number) };
      entries++;
      versions.add(e.columnsVersion);
      if (chainStartsAt === undefined) {
        chainStartsAt = e.seq;
        if (e.seq === 1 && e.prevDigest !== GENESIS_DIGEST) chain.push({ seq: 1, problem: 'the first entry does not start from the genesis digest' });
      }
      if (seen.has(e.seq)) chain.push({ seq: e.seq, problem: 'two entries share this seq: a fork (two collectors on one store?) or an inserted entry' });
      seen.add(e.seq);
      if (prev && e.seq !== prev.seq && e.seq !== prev.seq + 1) chain.push({ seq: e.seq, problem: `entries ${prev.seq + 1}..${e.seq - 1} are missing from the ledger` });
      if (prev && e.seq === prev.seq + 1 && e.prevDigest !== prev.digest) chain.push({ seq: e.seq, problem: `prev_digest does not match entry ${prev.seq}'s digest` });
      if (e.columnsVersion > LEDGER_COLUMNS_VERSION) chain.push({ seq: e.seq, problem: `covers schema version ${e.columnsVersion}, newer than this build knows (${LEDGER_COLUMNS_VERSION})` });
      else if (entryDigest({ tenant, ...e }) !== e.digest) chain.push({ seq: e.seq, problem: 'the entry was altered: its digest does not match its contents' });
      const want = expected.get(e.seq);
      if (want) {
        if (want.digest !== e.digest) chain.push({ seq: e.seq, problem: `differs from the published head ${want.digest.slice(0, 16)}…: history up to it was rewritten` });
        expected.delete(e.seq);
      }
      head = { tenant, seq: e.seq, digest: e.digest, ingestedAt: new Date(e.ingestedAtMs).toISOString() };
      prev = e;
    }
    if (page.length < ENTRIES_PER_PAGE) break;
    after = Number(page[page.length - 1]!.seq);
  }
  for (const want of expected.values()) chain.push({ seq: want.seq, problem: 'the published head is no longer in the ledger: the chain was cut or rewritten' });

  const counts: Record<RowProblemKind, number> = { missing: 0, changed: 0, added: 0, duplicated: 0 };
  const rows: RowProblem[] = [];
  const tally = { rowsInLedger: 0, rowsStored: 0, expired: 0, beforeLedger: 0 };
  const checkable = [...versions].filter((v) => v <= LEDGER_COLUMNS_VERSION);
  const days = await daysToCheck(store, tenant, opts.sinceMs);
  const found: RawProblem[] = [];
  const recheck: number[] = [];
  for (const day of days) {
    const result = await checkDay(store, tenant, day, checkable, opts.sinceMs);
    tally.rowsInLedger += result.inLedger;
    tally.rowsStored += result.stored;
    found.push(...result.problems);
    if (result.problems.some((p) => p.ln === 0)) recheck.push(day);
  }
  // Rows stored while this ran may not have their entry yet: let the writer finish, look again at those days.
  if (recheck.length > 0 && opts.settle) {
    await opts.settle();
    const again = new Set(recheck);
    const kept = found.filter((p) => !again.has(p.day));
    for (const day of recheck) kept.push(...(await checkDay(store, tenant, day, checkable, opts.sinceMs)).problems);
    found.length = 0;
    found.push(...kept);
  }
  const ttlMs = (opts.ttlDays ?? TOOL_CALLS_TTL_DAYS) * DAY_MS;
  for (const p of classify(found)) {
    if (p.kind === 'missing' && Date.parse(p.ts) + ttlMs <= opts.nowMs) {
      tally.expired++;
      continue;
    }
    if (p.kind === 'added' && ledgerStartMs !== undefined && Date.parse(p.ts) < ledgerStartMs) {
      tally.beforeLedger++;
      continue;
    }
    counts[p.kind]++;
    if (rows.length < maxListed) rows.push(p);
  }
  rows.sort((a, b) => a.ts.localeCompare(b.ts) || a.callId.localeCompare(b.callId));
  const ok = chain.length === 0 && counts.missing + counts.changed + counts.added + counts.duplicated === 0;
  return { tenant, ok, entries, ...tally, head, chainStartsAt, chain, rows, counts };
}

interface RawProblem {
  day: number;
  id: string;
  ln: number;
  lts: number;
  ld: string;
  lv: number;
  seqs: number[];
  sn: number;
  sts: number[];
  /** The stored copies' digests, for the ledger row's schema version. */
  sd: string[];
}

/** The per-row verdicts of the anomalies of all days; a row moved between days becomes one `changed`. */
function classify(found: RawProblem[]): RowProblem[] {
  const byId = new Map<string, RawProblem[]>();
  for (const p of found) byId.set(p.id, [...(byId.get(p.id) ?? []), p]);
  const out: RowProblem[] = [];
  const iso = (ms: number) => new Date(ms).toISOString();
  for (const [id, ps] of byId) {
    const inLedger = ps.find((p) => p.ln > 0);
    const storedElsewhere = ps.filter((p) => p.ln === 0 && p.sn > 0);
    if (inLedger && inLedger.sn === 0 && storedElsewhere.length > 0) {
      const moved = storedElsewhere[0]!;
      out.push({ kind: 'changed', callId: id, ts: iso(inLedger.lts), seq: inLedger.seqs[0], detail: `ts moved to ${iso(moved.sts[0]!)}` });
      continue;
    }
    for (const p of ps) {
      if (p.ln === 0) {
        out.push({ kind: 'added', callId: id, ts: iso(p.sts[0]!), detail: p.sn > 1 ? `${p.sn} copies` : undefined });
      } else if (p.sn === 0) {
        out.push({ kind: 'missing', callId: id, ts: iso(p.lts), seq: p.seqs[0] });
      } else {
        const matching = p.sd.filter((d, i) => d === p.ld && p.sts[i] === p.lts).length;
        if (matching === 0) {
          const detail = p.sts.some((t) => t !== p.lts) ? `ts is now ${iso(p.sts[0]!)}` : 'column values differ from those ingested';
          out.push({ kind: 'changed', callId: id, ts: iso(p.lts), seq: p.seqs[0], detail });
        }
        if (p.sn > 1) out.push({ kind: 'duplicated', callId: id, ts: iso(p.lts), seq: p.seqs[0], detail: `${p.sn} stored copies` });
      }
      // Two entries covering one row (a repair after a lost answer) is bookkeeping, not tampering: same rows, same digests.
    }
  }
  return out;
}

/**
 * One UTC day: the ledger's rows against the stored rows, joined by call id in
 * the engine; only the rows that differ come back.
 */
async function checkDay(store: Store, tenant: string, dayMs: number, versions: number[], sinceMs = 0): Promise<{ inLedger: number; stored: number; problems: RawProblem[] }> {
  const params: QueryParams = { tenant, lo: Math.max(dayMs, Math.floor(sinceMs)), hi: dayMs + DAY_MS };
  const inDay = (col: string) => `${col} >= fromUnixTimestamp64Milli({lo:Int64}) AND ${col} < fromUnixTimestamp64Milli({hi:Int64})`;
  const digestCols = versions.map((v) => `groupArray(lower(hex(${rowDigestSql(v)}))) AS sd${v}`);
  const pick = versions.length === 0 ? '[]' : `multiIf(${versions.map((v) => `l.lv = ${v}, s.sd${v}`).join(', ')}, [])`;
  const ledgerSide = `
    SELECT toString(c) AS id, count() AS ln, any(toUnixTimestamp64Milli(t)) AS lts, any(d) AS ld, any(columns_version) AS lv, groupArray(seq) AS seqs
    FROM ${TABLES.ledger} ARRAY JOIN call_ids AS c, row_ts AS t, row_digests AS d
    WHERE tenant_id = {tenant:String} AND max_ts >= fromUnixTimestamp64Milli({lo:Int64}) AND min_ts < fromUnixTimestamp64Milli({hi:Int64}) AND ${inDay('t')}
    GROUP BY id`;
  const storedSide = `
    SELECT toString(call_id) AS id, count() AS sn, groupArray(toUnixTimestamp64Milli(ts)) AS sts${digestCols.map((c) => ', ' + c).join('')}
    FROM ${TABLES.toolCalls}
    WHERE tenant_id = {tenant:String} AND ${inDay('ts')}
    GROUP BY id`;
  const clean = 'ln = 1 AND sn = 1 AND has(sd, ld) AND has(sts, lts)';
  const sql = `
    SELECT * FROM (
      SELECT if(l.ln > 0, l.id, s.id) AS call_id, l.ln AS ln, l.lts AS lts, l.ld AS ld, l.lv AS lv, l.seqs AS seqs,
             s.sn AS sn, s.sts AS sts, ${pick} AS sd
      FROM (${ledgerSide}) AS l
      FULL OUTER JOIN (${storedSide}) AS s ON l.id = s.id)
    WHERE NOT (${clean})`;
  const rows = await store.query<Omit<RawProblem, 'day' | 'id'> & { call_id: string }>(sql, params);
  const [totals] = await store.query<{ inLedger: number; stored: number }>(
    `SELECT (SELECT sum(length(arrayFilter(t -> ${inDay('t')}, row_ts))) FROM ${TABLES.ledger}
             WHERE tenant_id = {tenant:String} AND max_ts >= fromUnixTimestamp64Milli({lo:Int64}) AND min_ts < fromUnixTimestamp64Milli({hi:Int64})) AS inLedger,
            (SELECT count() FROM ${TABLES.toolCalls} WHERE tenant_id = {tenant:String} AND ${inDay('ts')}) AS stored`,
    params,
  );
  const inLedger = Number(totals?.inLedger ?? 0);
  const stored = Number(totals?.stored ?? 0);
  const problems: RawProblem[] = rows.map((r) => ({
    day: dayMs,
    id: r.call_id,
    ln: Number(r.ln),
    lts: Number(r.lts),
    ld: r.ld,
    lv: Number(r.lv),
    seqs: r.seqs.map(Number),
    sn: Number(r.sn),
    sts: r.sts.map(Number),
    sd: r.sd,
  }));
  return { inLedger, stored, problems };
}

/** The UTC days holding this tenant's ledger rows or stored rows, from `sinceMs` on (days without either need no check). */
async function daysToCheck(store: Store, tenant: string, sinceMs: number | undefined): Promise<number[]> {
  const since = Math.max(0, Math.floor(sinceMs ?? 0));
  const rows = await store.query<{ day: number }>(
    `SELECT DISTINCT day FROM (
       SELECT DISTINCT toUnixTimestamp(toDate(ts)) * 1000 AS day FROM ${TABLES.toolCalls}
       WHERE tenant_id = {tenant:String} AND ts >= fromUnixTimestamp64Milli({since:Int64})
       UNION ALL
       SELECT DISTINCT toUnixTimestamp(toDate(t)) * 1000 AS day FROM ${TABLES.ledger} ARRAY JOIN row_ts AS t
       WHERE tenant_id = {tenant:String} AND max_ts >= fromUnixTimestamp64Milli({since:Int64}) AND t >= fromUnixTimestamp64Milli({since:Int64}))
     ORDER BY day`,
    { tenant, since },
  );
  return rows.map((r) => Number(r.day));
}

async function knownTenants(store: Store): Promise<string[]> {
  const rows = await store.query<{ t: string }>(
    `SELECT DISTINCT t FROM (SELECT DISTINCT tenant_id AS t FROM ${TABLES.ledger} UNION ALL SELECT DISTINCT tenant_id AS t FROM ${TABLES.toolCalls}) ORDER BY t`,
  );
  return rows.map((r) => r.t);
}

/** When migration 6 created the ledger: stored rows older than this were never chained. */
async function ledgerStartedAt(store: Store): Promise<number | undefined> {
  const [row] = await store.query<{ at: number }>(`SELECT toUnixTimestamp64Milli(min(applied_at)) AS at FROM ${TABLES.schemaMigrations} WHERE version = 6`);
  const at = Number(row?.at);
  return at > 0 ? at : undefined;
}
