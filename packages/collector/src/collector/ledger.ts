/**
 * The ledger hook of the record write path: after a `tool_calls` batch landed
 * (after dedup), one chained entry per tenant in it. The writer inserts the
 * batches of a table one at a time, so entries are appended one batch at a
 * time too: one chain head per tenant per collector. (Two collectors writing
 * one store each keep their own heads and would fork a tenant's chain; `verify`
 * reports a fork. See README "Tamper evidence".)
 *
 * Rows dedup found already stored are either a re-send of a batch the ledger
 * holds, or rows of an attempt that landed while its ledger entry did not
 * (a crash or a failure between the two inserts): the second kind is looked up
 * and chained now, so every stored row ends up covered exactly once.
 */
import { contentToken, type AfterKeyedInsert } from './writer.js';
import { entryDigest, GENESIS_DIGEST, type LedgerRowFact } from '../audit/ledger-entry.js';
import { LEDGER_COLUMNS_VERSION } from '../audit/row-digest.js';
import { TABLES, type Store } from '../store/index.js';

/** Ids per coverage lookup (the http driver sends parameters in the URL). */
const IDS_PER_QUERY = { embedded: 5_000, http: 300 } as const;

interface Head {
  seq: number;
  digest: string;
}

export class LedgerAppender {
  private readonly heads = new Map<string, Head>();

  constructor(private readonly store: Store) {}

  /** The writer hook (see AfterKeyedInsert). */
  readonly afterInsert: AfterKeyedInsert = async (stored, alreadyStored, duplicates) => {
    const rows = stored as LedgerRowFact[];
    const uncovered = alreadyStored.length > 0 ? await this.uncovered(alreadyStored as LedgerRowFact[]) : [];
    try {
      await this.append([...rows, ...uncovered], duplicates - uncovered.length);
    } catch (err) {
      // The insert may have landed although it reported failure: read the heads again before the next entry.
      this.heads.clear();
      throw err;
    }
  };

  private async append(rows: LedgerRowFact[], duplicates: number): Promise<void> {
    if (rows.length === 0) return;
    const byTenant = new Map<string, LedgerRowFact[]>();
    for (const r of rows) {
      const list = byTenant.get(r.tenant);
      if (list) list.push(r);
      else byTenant.set(r.tenant, [r]);
    }
    await this.loadHeads([...byTenant.keys()]);
    const ingestedAt = new Date().toISOString();
    const next = new Map<string, Head>();
    let body = '';
    let first = true;
    for (const [tenant, facts] of byTenant) {
      const head = this.heads.get(tenant) ?? { seq: 0, digest: GENESIS_DIGEST };
      const entry = {
        tenant,
        seq: head.seq + 1,
        columnsVersion: LEDGER_COLUMNS_VERSION,
        prevDigest: head.digest,
        callIds: facts.map((f) => f.callId),
        rowTsMs: facts.map((f) => f.tsMs),
        rowDigests: facts.map((f) => f.digest),
      };
      const digest = entryDigest(entry);
      next.set(tenant, { seq: entry.seq, digest });
      let minTs = Infinity;
      let maxTs = -Infinity;
      for (const t of entry.rowTsMs) {
        if (t < minTs) minTs = t;
        if (t > maxTs) maxTs = t;
      }
      body +=
        JSON.stringify({
          tenant_id: tenant,
          seq: entry.seq,
          ingested_at: ingestedAt,
          columns_version: entry.columnsVersion,
          prev_digest: entry.prevDigest,
          digest,
          rows: facts.length,
          // The batch's dropped lines are counted once, on its first tenant's entry.
          duplicates: first ? Math.max(0, duplicates) : 0,
          min_ts: new Date(minTs).toISOString(),
          max_ts: new Date(maxTs).toISOString(),
          call_ids: entry.callIds,
          row_ts: entry.rowTsMs.map((t) => new Date(t).toISOString()),
          row_digests: entry.rowDigests,
        }) + '\n';
      first = false;
    }
    await this.store.insertNDJSON(TABLES.ledger, body, { dedupToken: contentToken(body) });
    for (const [tenant, head] of next) this.heads.set(tenant, head);
  }

  private async loadHeads(tenants: string[]): Promise<void> {
    const missing = tenants.filter((t) => !this.heads.has(t));
    if (missing.length === 0) return;
    const rows = await this.store.query<{ tenant: string; head_seq: number; digest: string }>(
      `SELECT tenant_id AS tenant, max(seq) AS head_seq, argMax(digest, seq) AS digest FROM ${TABLES.ledger} WHERE tenant_id IN {tenants:Array(String)} GROUP BY tenant_id`,
      { tenants: missing },
    );
    for (const r of rows) this.heads.set(r.tenant, { seq: Number(r.head_seq), digest: r.digest });
  }

  /** Of rows the table already held, those no ledger entry covers. */
  private async uncovered(rows: LedgerRowFact[]): Promise<LedgerRowFact[]> {
    const covered = new Set<string>();
    const per = IDS_PER_QUERY[this.store.driver];
    for (let i = 0; i < rows.length; i += per) {
      const slice = rows.slice(i, i + per);
      let minTs = Infinity;
      let maxTs = -Infinity;
      for (const r of slice) {
        minTs = Math.min(minTs, r.tsMs);
        maxTs = Math.max(maxTs, r.tsMs);
      }
      const found = await this.store.query<{ id: string }>(
        `SELECT DISTINCT toString(c) AS id FROM ${TABLES.ledger} ARRAY JOIN call_ids AS c
         WHERE tenant_id IN {tenants:Array(String)} AND max_ts >= fromUnixTimestamp64Milli({minTs:Int64}) AND min_ts <= fromUnixTimestamp64Milli({maxTs:Int64})
           AND c IN {ids:Array(UUID)}`,
        { tenants: [...new Set(slice.map((r) => r.tenant))], minTs, maxTs, ids: slice.map((r) => r.callId) },
      );
      for (const f of found) covered.add(f.id);
    }
    return rows.filter((r) => !covered.has(r.callId));
  }
}
