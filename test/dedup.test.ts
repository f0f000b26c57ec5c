/**
 * Exactly-once effect over at-least-once delivery: the same records sent
 * again (alone, mixed into other batches, concurrently, or retried by the
 * writer after an insert that landed but reported failure) are stored once,
 * and the rollup that dashboards and alerts read counts them once.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore, migrate, appliedVersions, MIGRATIONS, TABLES, type Store } from '../packages/collector/src/store/index.js';
import { listCalls } from '../packages/collector/src/audit/index.js';
import type { CallRecord } from '../packages/mcptrail/src/record/index.js';
import { callRecord, countRows, ndjson, postRecords, rollupCalls, startTestCollector, type TestCollector } from './support/reliability-collector.js';

describe('dedup through the collector', () => {
  let c: TestCollector;
  before(async () => {
    c = await startTestCollector();
  });
  after(() => c.close());

  test('a batch sent twice, re-sent inside a different batch, and sent concurrently is stored and rolled up once', async () => {
    const batch = Array.from({ length: 200 }, (_, i) => callRecord({ agent_id: `agent-${i % 7}` }));
    const other = Array.from({ length: 50 }, () => callRecord({ tenant_id: 'globex' }));
    assert.equal((await postRecords(c.base, ndjson(batch))).status, 200);
    assert.equal((await postRecords(c.base, ndjson(batch))).status, 200, 'the re-send is acknowledged');
    // The same records in a differently composed request (a shipper that regrouped after a restart).
    assert.equal((await postRecords(c.base, ndjson([...other, ...batch.slice(0, 100)]))).status, 200);
    // Concurrently: both land in one writer batch.
    const both = await Promise.all([postRecords(c.base, ndjson(batch.slice(50))), postRecords(c.base, ndjson(batch.slice(50)))]);
    assert.deepEqual(both.map((r) => r.status), [200, 200]);

    assert.equal(await countRows(c.store), 250);
    assert.equal(await rollupCalls(c.store), 250, 'the rollup counts each call once');
    const [acme] = await c.store.query<{ n: number }>(`SELECT sum(calls) AS n FROM ${TABLES.toolCalls1m} WHERE tenant_id = 'acme'`);
    assert.equal(Number(acme!.n), 200);
    const api = (await (await fetch(`${c.base}/api/calls?tenant=acme&limit=1000`)).json()) as { calls: unknown[] };
    assert.equal(api.calls.length, 200);
    const [uniq] = await c.store.query<{ n: number }>(`SELECT uniqExact(call_id) AS n FROM ${TABLES.toolCalls}`);
    assert.equal(Number(uniq!.n), 250);
    assert.ok(c.collector.stats().duplicatesSkipped >= 200 + 100 + 150, `skipped ${c.collector.stats().duplicatesSkipped}`);
  });
});

describe('dedup of writer retries (insert landed, then reported failure)', () => {
  let dir: string;
  let real: Store;
  let c: TestCollector;
  let failAfterInsert = 0;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mcptrail-dedup-'));
    real = await openStore({ dataDir: dir, url: '' });
    // The real store, with a fault: the insert happens, then the call throws (a lost response).
    const flaky: Store = Object.create(real) as Store;
    flaky.insertNDJSON = async (table, body, opts) => {
      const result = await real.insertNDJSON(table, body, opts);
      if (failAfterInsert-- > 0) throw Object.assign(new Error('connection reset'), { code: 'ECONNRESET' });
      return result;
    };
    c = await startTestCollector({ store: flaky, batch: { maxDelayMs: 10, retryBaseMs: 5 } });
  });
  after(async () => {
    await c.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('records: the retry finds the rows already there and adds nothing', async () => {
    failAfterInsert = 1;
    const batch = Array.from({ length: 30 }, () => callRecord());
    const res = await postRecords(c.base, ndjson(batch));
    assert.equal(res.status, 200);
    assert.equal(c.collector.stats().retries, 1);
    assert.equal(await countRows(real), 30);
    assert.equal(await rollupCalls(real), 30);
  });

  test('spans (no key lookup): the retried block carries the same dedup token and is skipped', async () => {
    const retriesBefore = c.collector.stats().retries;
    failAfterInsert = 2;
    const now = BigInt(Date.now()) * 1_000_000n;
    const spans = Array.from({ length: 3 }, (_, i) => ({
      traceId: '5b8efff798038103d269b633813fc60c',
      spanId: `eee19b7ec3c1b17${i}`,
      name: 'tools/call crm.search',
      kind: 2,
      startTimeUnixNano: String(now),
      endTimeUnixNano: String(now + 1_000_000n),
    }));
    const body = { resourceSpans: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'crm' } }] }, scopeSpans: [{ spans }] }] };
    const res = await fetch(`${c.base}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    assert.equal(res.status, 200);
    assert.equal(c.collector.stats().retries - retriesBefore, 2);
    assert.equal(await countRows(real, TABLES.otelTraces), 3);
  });
});

describe('migration 3 on a database that already holds data', () => {
  test('turns dedup on without touching existing rows', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mcptrail-mig3-'));
    const store = await openStore({ dataDir: dir, url: '' });
    try {
      await migrate(store, MIGRATIONS.filter((m) => m.version < 3));
      const old = Array.from({ length: 10 }, () => callRecord());
      await store.insertNDJSON(TABLES.toolCalls, ndjson(old));
      await migrate(store);
      assert.deepEqual((await appliedVersions(store)).map((m) => m.version), MIGRATIONS.map((m) => m.version));
      assert.equal(await countRows(store), 10);
      const block = ndjson(Array.from({ length: 5 }, () => callRecord()));
      await store.insertNDJSON(TABLES.toolCalls, block, { dedupToken: 't-1' });
      await store.insertNDJSON(TABLES.toolCalls, block, { dedupToken: 't-1' });
      assert.equal(await countRows(store), 15);
      assert.equal(await rollupCalls(store), 15);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('what dedup costs', () => {
  test('write side: one lookup per batch; read side: nothing (plain reads stay exact)', async () => {
    const c = await startTestCollector({ batch: { maxDelayMs: 5, maxRows: 5000 } });
    try {
      const day = Date.now() - 3600_000;
      // 100k rows of history, then timed batches of 1000.
      for (let b = 0; b < 20; b++) {
        const rows = Array.from({ length: 5000 }, (_, i) => callRecord({ ts: new Date(day + b * 5000 + i).toISOString(), tool: `tool.${i % 5}` }));
        await c.store.insertNDJSON(TABLES.toolCalls, ndjson(rows));
      }
      const before = c.collector.stats().dedupLookupMs;
      const batches = 10;
      const started = performance.now();
      for (let b = 0; b < batches; b++) {
        const res = await postRecords(c.base, ndjson(Array.from({ length: 1000 }, () => callRecord())));
        assert.equal(res.status, 200);
      }
      const perBatch = (performance.now() - started) / batches;
      const lookup = (c.collector.stats().dedupLookupMs - before) / batches;

      const time = async (sql: string) => {
        const t = performance.now();
        for (let i = 0; i < 5; i++) await c.store.query(sql);
        return (performance.now() - t) / 5;
      };
      const plain = await time(`SELECT count() FROM ${TABLES.toolCalls} WHERE tenant_id = 'acme'`);
      const readDedup = await time(`SELECT uniqExact(call_id) FROM ${TABLES.toolCalls} WHERE tenant_id = 'acme'`);
      const calls = await time(`SELECT * FROM ${TABLES.toolCalls} WHERE tenant_id = 'acme' ORDER BY ts DESC LIMIT 100`);
      const callsLatest = await time(`SELECT * FROM ${TABLES.toolCalls} WHERE tenant_id = 'acme' ORDER BY ts DESC LIMIT 1 BY call_id LIMIT 100`);
      const figures =
        `dedup cost (110k rows, embedded): lookup ${lookup.toFixed(1)} ms per 1000-row batch (request ${perBatch.toFixed(1)} ms); ` +
        `reads need no dedup: count ${plain.toFixed(1)} ms vs read-time uniqExact(call_id) ${readDedup.toFixed(1)} ms; ` +
        `latest-100 ${calls.toFixed(1)} ms vs LIMIT 1 BY call_id ${callsLatest.toFixed(1)} ms`;
      console.log(`# ${figures}`);
      assert.ok(lookup < perBatch, figures);
      assert.equal(await countRows(c.store), 110_000);
    } finally {
      await c.close();
    }
  });
});

describe('migration 4 on a database that already holds data', () => {
  test('adds calls_in_request; rows written before it read 1 (each accounted for one call)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mcptrail-mig4-'));
    const store = await openStore({ dataDir: dir, url: '' });
    try {
      await migrate(store, MIGRATIONS.filter((m) => m.version < 4));
      const { calls_in_request: _, ...old } = callRecord();
      await store.insertNDJSON(TABLES.toolCalls, ndjson([old as CallRecord]));
      await migrate(store);
      await store.insertNDJSON(TABLES.toolCalls, ndjson([callRecord({ calls_in_request: 7 })]));
      const rows = await store.query<{ n: number }>(`SELECT calls_in_request AS n FROM ${TABLES.toolCalls} ORDER BY n`);
      assert.deepEqual(rows.map((r) => Number(r.n)), [1, 7]);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
