/**
 * Tamper evidence: the collector chains every stored batch of tool_calls into
 * a per-tenant ledger at ingest, and verify recomputes it from what the engine
 * holds. Tampering is done directly in the engine (ALTER TABLE ... DELETE /
 * UPDATE, INSERT), on the embedded driver and the http driver.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { openStore, migrate, TABLES, type Store } from '../packages/collector/src/store/index.js';
import { verifyLedger, ledgerHeads } from '../packages/collector/src/audit/verify.js';
import { LEDGER_COLUMNS_VERSION, columnsFor, normalizeForStore, rowDigest, rowDigestSql } from '../packages/collector/src/audit/row-digest.js';
import { callRecord, ndjson, postRecords, startTestCollector, type TestCollector } from './support/reliability-collector.js';
import { startClickHouseHttpServer, type ClickHouseHttpServer } from './support/ch-http-server.js';
import type { CallRecord } from '../packages/mcptrail/src/record/schema.js';

const DAY = 86_400_000;

/** Records with values that a sloppy canonical form would get wrong. */
function awkwardRecords(n: number, tenant = 'acme'): CallRecord[] {
  return Array.from({ length: n }, (_, i) =>
    callRecord({
      tenant_id: tenant,
      call_id: i % 3 === 0 ? randomUUID().toUpperCase() : randomUUID(),
      // Sub-millisecond digits and a zone offset: stored as UTC milliseconds.
      ts: i % 2 === 0 ? new Date(Date.now() - i * 1000).toISOString().replace('Z', '789+00:00') : new Date(Date.now() - i * 1000).toISOString().replace('Z', '+02:00').replace(/T(\d\d)/, (_, h) => `T${String((Number(h) + 2) % 24).padStart(2, '0')}`),
      duration_ms: [0.1, 1 / 3, 12345.678901, 86_399_999.9, 0][i % 5]!,
      scopes_granted: i % 4 === 0 ? [] : ['crm:read', 'crm:wrïte', '日本'],
      agent_id: `agent-${i}-\u00e9\ud83d\ude00`,
      subject: i % 7 === 0 ? 'lone \ud800 surrogate' : 'sub',
      upstream_calls: i % 65536 === 0 ? 65535 % 1000 : i,
      budget_ms_total: 999_999,
      rate_limited: i % 2 === 0,
      args_summary: JSON.stringify({ q: 'x'.repeat(i % 300), nl: 'a\nb\t"c"' }),
    }),
  );
}

/**
 * Runs a tampering statement; for a mutation, waits until the engine reports it done, so the next
 * read sees it. (chdb's `mutations_sync = 2` hung on a table whose part TTL had just emptied.)
 */
async function runSql(store: Store, sql: string): Promise<void> {
  await store.exec(sql);
  if (!sql.startsWith('ALTER TABLE')) return;
  for (const started = Date.now(); Date.now() - started < 30_000; ) {
    const [row] = await store.query<{ n: number }>(`SELECT count() AS n FROM system.mutations WHERE database = 'mcptrail' AND is_done = 0`);
    if (Number(row!.n) === 0) return;
    await new Promise((resolve) => setImmediate(resolve));
  }
  throw new Error(`mutation not done after 30 s: ${sql}`);
}

for (const driver of ['embedded', 'http'] as const) {
  describe(`ledger on the ${driver} driver`, () => {
    let dir: string;
    let chServer: ClickHouseHttpServer | undefined;
    let store: Store;
    let c: TestCollector;
    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'mcptrail-ledger-'));
      if (driver === 'http') {
        chServer = await startClickHouseHttpServer({ dataDir: join(dir, 'ch') });
        store = await openStore({ url: chServer.url });
      } else {
        store = await openStore({ dataDir: dir, url: '' });
      }
      await migrate(store);
      c = await startTestCollector({ store });
    });
    after(async () => {
      await c.collector.close();
      await store.close();
      await chServer?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    test('the JS row digest at ingest equals the engine recomputing it from the stored values', async () => {
      const records = awkwardRecords(60, 'digest-check');
      assert.equal((await postRecords(c.base, ndjson(records))).status, 200);
      const stored = await store.query<{ id: string; d: string }>(
        `SELECT toString(call_id) AS id, lower(hex(${rowDigestSql(LEDGER_COLUMNS_VERSION)})) AS d FROM ${TABLES.toolCalls} WHERE tenant_id = 'digest-check'`,
      );
      assert.equal(stored.length, 60);
      const byId = new Map(stored.map((r) => [r.id, r.d]));
      for (const r of records) {
        const normalized = normalizeForStore(structuredClone(r));
        assert.equal(byId.get(r.call_id.toLowerCase()), rowDigest(normalized).toString('hex'), `row ${r.call_id}`);
      }
      const report = await verifyLedger(store, { tenant: 'digest-check' });
      assert.equal(report.ok, true, JSON.stringify(report.tenants[0], null, 1));
      assert.equal(report.tenants[0]!.rowsInLedger, 60);
      assert.equal(report.tenants[0]!.rowsStored, 60);
    });

    test('untouched data verifies; re-sent and concurrent batches keep one chain head and cover each row once', async () => {
      const batch = Array.from({ length: 120 }, (_, i) => callRecord({ tenant_id: i % 3 === 0 ? 'globex' : 'acme', agent_id: `a-${i}` }));
      assert.equal((await postRecords(c.base, ndjson(batch))).status, 200);
      assert.equal((await postRecords(c.base, ndjson(batch))).status, 200, 're-send');
      const more = Array.from({ length: 8 }, () => Array.from({ length: 25 }, () => callRecord({ tenant_id: 'acme' })));
      const results = await Promise.all([...more.map((b) => postRecords(c.base, ndjson(b))), postRecords(c.base, ndjson(batch.slice(10, 40)))]);
      assert.deepEqual(results.map((r) => r.status), results.map(() => 200));
      const entries = await store.query<{ seq: number }>(`SELECT seq FROM ${TABLES.ledger} WHERE tenant_id = 'acme' ORDER BY seq`);
      assert.deepEqual(entries.map((e) => Number(e.seq)), entries.map((_, i) => i + 1), 'one chain: seq 1..n without gaps or forks');
      const report = await verifyLedger(store, { tenant: 'acme' });
      assert.equal(report.ok, true, JSON.stringify(report.tenants[0]?.chain));
      assert.equal(report.tenants[0]!.rowsInLedger, 80 + 200);
      const [covered] = await store.query<{ n: number; u: number }>(
        `SELECT count() AS n, uniqExact(c) AS u FROM ${TABLES.ledger} ARRAY JOIN call_ids AS c WHERE tenant_id = 'acme'`,
      );
      assert.equal(Number(covered!.n), Number(covered!.u), 'no row is covered twice');
      const all = await verifyLedger(store);
      assert.equal(all.ok, true);
      assert.deepEqual(all.tenants.map((t) => t.tenant).sort(), ['acme', 'digest-check', 'globex']);
    });

    test('a deleted, an altered, an inserted and a copied row are each named', async () => {
      const tenant = `tamper-${driver}`;
      const records = Array.from({ length: 40 }, (_, i) => callRecord({ tenant_id: tenant, ts: new Date(Date.now() - i * 60_000).toISOString() }));
      assert.equal((await postRecords(c.base, ndjson(records))).status, 200);
      assert.equal((await verifyLedger(store, { tenant })).ok, true);
      const [deleted, altered, moved, copied] = [records[3]!, records[7]!, records[11]!, records[13]!];
      await runSql(store, `ALTER TABLE ${TABLES.toolCalls} DELETE WHERE call_id = '${deleted.call_id}'`);
      await runSql(store, `ALTER TABLE ${TABLES.toolCalls} UPDATE outcome = 'ok', agent_id = 'someone-else' WHERE call_id = '${altered.call_id}'`);
      // ts is a key column (no UPDATE): move the row three days back as a rewrite would, copy then delete.
      await runSql(store, `INSERT INTO ${TABLES.toolCalls} SELECT * REPLACE (ts - INTERVAL 3 DAY AS ts) FROM ${TABLES.toolCalls} WHERE call_id = '${moved.call_id}'`);
      await runSql(store, `ALTER TABLE ${TABLES.toolCalls} DELETE WHERE call_id = '${moved.call_id}' AND ts > now64(3) - INTERVAL 2 DAY`);
      await runSql(store, `INSERT INTO ${TABLES.toolCalls} SELECT * FROM ${TABLES.toolCalls} WHERE call_id = '${copied.call_id}'`);
      const inserted = randomUUID();
      await runSql(store, `INSERT INTO ${TABLES.toolCalls} (ts, call_id, tenant_id, tool, outcome) VALUES (now64(3), '${inserted}', '${tenant}', 'crm.issue_refund', 'ok')`);

      const report = await verifyLedger(store, { tenant });
      const t = report.tenants[0]!;
      assert.equal(report.ok, false);
      const named = (kind: string) => t.rows.filter((r) => r.kind === kind).map((r) => r.callId).sort();
      assert.deepEqual(named('missing'), [deleted.call_id]);
      assert.deepEqual(named('changed'), [altered.call_id, moved.call_id].sort());
      assert.deepEqual(named('added'), [inserted]);
      assert.deepEqual(named('duplicated'), [copied.call_id]);
      assert.deepEqual(t.counts, { missing: 1, changed: 2, added: 1, duplicated: 1 });
      const missing = t.rows.find((r) => r.kind === 'missing')!;
      assert.equal(missing.ts, new Date(Date.parse(deleted.ts)).toISOString(), 'the row is named with its ts');
      assert.equal(t.chain.length, 0, 'the ledger itself is intact');
    });

    test('an altered, a removed and a forged ledger entry break the chain', async () => {
      const tenant = `chain-${driver}`;
      for (let i = 0; i < 4; i++) assert.equal((await postRecords(c.base, ndjson([callRecord({ tenant_id: tenant }), callRecord({ tenant_id: tenant })]))).status, 200);
      const heads = await ledgerHeads(store, tenant);
      assert.equal(heads[0]!.seq, 4);
      assert.equal((await verifyLedger(store, { tenant, expect: heads })).ok, true, 'the published head checks out');
      await runSql(store, `ALTER TABLE ${TABLES.ledger} UPDATE rows = rows + 1, row_digests = arrayMap(d -> repeat('0', 32), row_digests) WHERE tenant_id = '${tenant}' AND seq = 2`);
      await runSql(store, `ALTER TABLE ${TABLES.ledger} DELETE WHERE tenant_id = '${tenant}' AND seq = 3`);
      const report = await verifyLedger(store, { tenant, expect: [{ ...heads[0]!, digest: 'f'.repeat(64) }] });
      const problems = report.tenants[0]!.chain.map((p) => `${p.seq}: ${p.problem}`);
      assert.equal(report.ok, false);
      assert.ok(problems.some((p) => p.startsWith('2: the entry was altered')), problems.join('\n'));
      assert.ok(problems.some((p) => p.startsWith('4: entries 3..3 are missing')), problems.join('\n'));
      assert.ok(problems.some((p) => p.startsWith('4: differs from the published head')), problems.join('\n'));
      // The rows of the altered entry no longer match its (forged) digests; those of the removed one are stored but unledgered.
      assert.equal(report.tenants[0]!.counts.changed, 2);
      assert.equal(report.tenants[0]!.counts.added, 2);
    });

    test('rows past their TTL are expired, not missing; rows older than the ledger are not added', async () => {
      const tenant = `ttl-${driver}`;
      const old = callRecord({ tenant_id: tenant, ts: new Date(Date.now() - 95 * DAY).toISOString() });
      const recent = callRecord({ tenant_id: tenant });
      assert.equal((await postRecords(c.base, ndjson([old, recent]))).status, 200);
      // The engine applies TTL to the new part already; the delete stands in for a later TTL merge where it does not.
      await runSql(store, `ALTER TABLE ${TABLES.toolCalls} DELETE WHERE call_id = '${old.call_id}'`);
      let report = await verifyLedger(store, { tenant });
      assert.equal(report.ok, true, JSON.stringify(report.tenants[0]));
      assert.equal(report.tenants[0]!.expired, 1);
      await runSql(store, `ALTER TABLE ${TABLES.toolCalls} DELETE WHERE call_id = '${recent.call_id}'`);
      report = await verifyLedger(store, { tenant });
      assert.deepEqual(report.tenants[0]!.rows.map((r) => [r.kind, r.callId]), [['missing', recent.call_id]]);

      const before = randomUUID();
      // A row dated before the ledger existed (an upgraded store's history) is reported apart, not as added.
      await runSql(store, `INSERT INTO ${TABLES.toolCalls} (ts, call_id, tenant_id) VALUES (now64(3) - INTERVAL 2 DAY, '${before}', '${tenant}')`);
      report = await verifyLedger(store, { tenant });
      assert.equal(report.tenants[0]!.beforeLedger, 1);
      assert.equal(report.tenants[0]!.counts.added, 0);
    });

    test('--since limits the row check; a column added later leaves old entries verifiable', async () => {
      const tenant = `since-${driver}`;
      const oldRow = callRecord({ tenant_id: tenant, ts: new Date(Date.now() - 5 * DAY).toISOString() });
      assert.equal((await postRecords(c.base, ndjson([oldRow, callRecord({ tenant_id: tenant })]))).status, 200);
      await runSql(store, `ALTER TABLE ${TABLES.toolCalls} DELETE WHERE call_id = '${oldRow.call_id}'`);
      assert.equal((await verifyLedger(store, { tenant, sinceMs: Date.now() - DAY })).ok, true, 'outside the window');
      assert.equal((await verifyLedger(store, { tenant })).ok, false, 'inside it');
      await runSql(store, `ALTER TABLE ${TABLES.toolCalls} ADD COLUMN IF NOT EXISTS later_column UInt8 DEFAULT 7`);
      assert.equal((await verifyLedger(store, { tenant, sinceMs: Date.now() - DAY })).ok, true, 'entries name the columns they cover');
      await runSql(store, `ALTER TABLE ${TABLES.toolCalls} DROP COLUMN later_column`);
    });
  });
}

describe('ledger across failures', () => {
  test('an insert that landed but reported failure, and a ledger insert that failed, still leave every row covered once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mcptrail-ledger-fail-'));
    const real = await openStore({ dataDir: dir, url: '' });
    await migrate(real);
    let failToolCallsAfterInsert = 1;
    let failLedgerBeforeInsert = 1;
    let failLedgerAfterInsert = 1;
    const flaky: Store = Object.create(real) as Store;
    flaky.insertNDJSON = async (table, body, opts) => {
      if (table === TABLES.ledger && failLedgerBeforeInsert-- > 0) throw Object.assign(new Error('connection refused'), { code: 'ECONNREFUSED' });
      const result = await real.insertNDJSON(table, body, opts);
      if (table === TABLES.toolCalls && failToolCallsAfterInsert-- > 0) throw Object.assign(new Error('connection reset'), { code: 'ECONNRESET' });
      if (table === TABLES.ledger && failLedgerAfterInsert-- > 0) throw Object.assign(new Error('connection reset'), { code: 'ECONNRESET' });
      return result;
    };
    const c = await startTestCollector({ store: flaky, batch: { maxDelayMs: 5, retryBaseMs: 1 } });
    try {
      const batches = [0, 1, 2].map(() => Array.from({ length: 30 }, () => callRecord({ tenant_id: 'acme' })));
      for (const b of batches) assert.equal((await postRecords(c.base, ndjson(b))).status, 200);
      const report = await verifyLedger(real, { tenant: 'acme' });
      assert.equal(report.ok, true, JSON.stringify(report.tenants[0]));
      assert.equal(report.tenants[0]!.rowsInLedger, 90);
      const [covered] = await real.query<{ n: number; u: number }>(`SELECT count() AS n, uniqExact(c) AS u FROM ${TABLES.ledger} ARRAY JOIN call_ids AS c`);
      assert.equal(Number(covered!.n), 90);
      assert.equal(Number(covered!.u), 90);
      assert.ok(c.collector.stats().retries >= 3);
    } finally {
      await c.collector.close();
      await real.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('the digest names the columns of each schema version, and every FIELDS type has an encoder', () => {
    assert.ok(LEDGER_COLUMNS_VERSION >= 1);
    assert.deepEqual(columnsFor(1).slice(0, 3), ['ts', 'call_id', 'trace_id']);
    for (let v = 1; v < LEDGER_COLUMNS_VERSION; v++) assert.deepEqual(columnsFor(v + 1).slice(0, columnsFor(v).length), columnsFor(v), 'later versions only append');
    assert.throws(() => columnsFor(LEDGER_COLUMNS_VERSION + 1), /newer than this build knows/);
  });
});
