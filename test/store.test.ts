/**
 * The store contract on both drivers: embedded chdb, and the http driver
 * (@clickhouse/client) against a ClickHouse HTTP interface served from chdb.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { emptyRecord, FIELD_NAMES, type CallRecord } from '../packages/mcptrail/src/record/schema.js';
import { openStore, migrate, appliedVersions, MIGRATIONS, TABLES, StoreError, type Store } from '../packages/collector/src/store/index.js';
import { startClickHouseHttpServer, type ClickHouseHttpServer, type ClickHouseHttpServerOptions } from './support/ch-http-server.js';

const HOSTILE = "'; DROP TABLE x --";

function record(overrides: Partial<CallRecord>): CallRecord {
  return { ...emptyRecord(), call_id: randomUUID(), ts: new Date().toISOString(), ...overrides };
}

function ndjson(records: CallRecord[]): string {
  return records.map((r) => JSON.stringify(r)).join('\n') + '\n';
}

function storeContract(name: string, setup: () => Promise<{ store: Store; teardown: () => Promise<void>; sqlSeen?: () => string[] }>): void {
  describe(name, () => {
    let store: Store;
    let teardown: () => Promise<void>;
    let sqlSeen: (() => string[]) | undefined;
    before(async () => {
      ({ store, teardown, sqlSeen } = await setup());
    });
    after(async () => {
      await teardown();
    });

    test('ping answers', async () => {
      assert.equal(await store.ping(), true);
    });

    test('migrations apply in order and are idempotent', async () => {
      const first = await migrate(store);
      assert.deepEqual(
        first.map((m) => m.version),
        MIGRATIONS.map((m) => m.version),
      );
      const second = await migrate(store);
      assert.deepEqual(second, []);
      assert.deepEqual(
        (await appliedVersions(store)).map((m) => m.version),
        MIGRATIONS.map((m) => m.version),
      );
      const tables = await store.query<{ name: string; engine: string }>(
        'SELECT name, engine FROM system.tables WHERE database = {db:String} ORDER BY name',
        { db: 'mcptrail' },
      );
      assert.deepEqual(
        tables.map((t) => `${t.name}:${t.engine}`),
        [
          'alert_events:MergeTree',
          'ledger:MergeTree',
          'otel_metrics_exponential_histogram:MergeTree',
          'otel_metrics_gauge:MergeTree',
          'otel_metrics_histogram:MergeTree',
          'otel_metrics_sum:MergeTree',
          'otel_metrics_summary:MergeTree',
          'otel_traces:MergeTree',
          'otel_traces_trace_id_ts:AggregatingMergeTree',
          'otel_traces_trace_id_ts_mv:MaterializedView',
          'pipeline_events:MergeTree',
          'schema_migrations:ReplacingMergeTree',
          'tool_calls:MergeTree',
          'tool_calls_1m:AggregatingMergeTree',
          'tool_calls_1m_mv:MaterializedView',
        ],
      );
    });

    test('tool_calls has exactly the CallRecord fields, in order, with its skip indexes', async () => {
      const columns = await store.query<{ name: string }>(
        "SELECT name FROM system.columns WHERE database = 'mcptrail' AND table = 'tool_calls' ORDER BY position",
      );
      assert.deepEqual(
        columns.map((c) => c.name),
        FIELD_NAMES,
      );
      const indexes = await store.query<{ name: string; type: string }>(
        "SELECT name, type FROM system.data_skipping_indices WHERE database = 'mcptrail' AND table = 'tool_calls' ORDER BY name",
      );
      assert.deepEqual(
        indexes.map((i) => `${i.name}:${i.type}`),
        ['idx_agent_id:bloom_filter', 'idx_call_id:bloom_filter', 'idx_duration:minmax', 'idx_intent:ngrambf_v1', 'idx_trace_id:bloom_filter'],
      );
      const [ddl] = await store.query<{ sorting_key: string; partition_key: string }>(
        "SELECT sorting_key, partition_key FROM system.tables WHERE database = 'mcptrail' AND name = 'tool_calls'",
      );
      assert.equal(ddl!.sorting_key, 'tenant_id, tool, ts');
      assert.equal(ddl!.partition_key, 'toDate(ts)');
    });

    test('NDJSON records round-trip, ISO timestamps with offsets included', async () => {
      const now = Date.now();
      const records = [
        record({ tool: 'crm.search', tenant_id: 'acme', agent_id: 'a1', outcome: 'ok', duration_ms: 12.5, scopes_granted: ['crm:read'] }),
        record({ tool: 'crm.search', tenant_id: 'acme', agent_id: 'a2', outcome: 'tool_error', duration_ms: 30, upstream_retries: 2 }),
        record({
          tool: 'crm.refund',
          tenant_id: 'globex',
          agent_id: 'a3',
          outcome: 'rate_limited',
          rate_limited: true,
          rate_limit_budget: 'agent',
          auth_refresh: 1,
          auth_refresh_failed: 1,
          // The same instant written with a +02:00 offset: best_effort parsing must keep it.
          ts: new Date(now).toISOString().replace('Z', '+00:00'),
        }),
      ];
      const result = await store.insertNDJSON(TABLES.toolCalls, Buffer.from(ndjson(records)));
      assert.ok((result.rowsWritten ?? 3) >= 3);
      const rows = await store.query<CallRecord>(`SELECT * FROM ${TABLES.toolCalls} ORDER BY agent_id`);
      assert.equal(rows.length, 3);
      assert.deepEqual(rows[0], records[0]);
      assert.deepEqual(rows[1], records[1]);
      assert.equal(rows[2]!.ts, new Date(now).toISOString());
      assert.equal(rows[2]!.rate_limited, true);
    });

    test('the per-minute rollup fills from the materialized view', async () => {
      const rows = await store.query<Record<string, unknown>>(
        `SELECT tenant_id, tool, outcome, sum(calls) AS calls, max(duration_ms_max) AS max_ms, sum(duration_ms_sum) AS sum_ms,
                uniqMerge(agents) AS agents, sum(upstream_retries) AS retries, sum(rate_limited) AS rate_limited,
                sum(auth_refresh) AS refresh, sum(auth_refresh_failed) AS refresh_failed,
                quantilesTDigestMerge(0.5, 0.95, 0.99)(duration_ms_quantiles) AS q
         FROM ${TABLES.toolCalls1m} GROUP BY tenant_id, tool, outcome ORDER BY tenant_id, tool, outcome`,
      );
      assert.deepEqual(
        rows.map((r) => [r.tenant_id, r.tool, r.outcome, r.calls, r.agents, r.retries, r.rate_limited, r.refresh, r.refresh_failed]),
        [
          ['acme', 'crm.search', 'ok', 1, 1, 0, 0, 0, 0],
          ['acme', 'crm.search', 'tool_error', 1, 1, 2, 0, 0, 0],
          ['globex', 'crm.refund', 'rate_limited', 1, 1, 0, 1, 1, 1],
        ],
      );
      assert.equal(rows[0]!.max_ms, 12.5);
      assert.deepEqual(rows[1]!.q, [30, 30, 30]);
    });

    test('parameters are bound server-side: a hostile string is data', async () => {
      const [echo] = await store.query<{ s: string; n: number }>('SELECT {s:String} AS s, {n:UInt32} + 1 AS n', { s: HOSTILE, n: 41 });
      assert.deepEqual(echo, { s: HOSTILE, n: 42 });
      const tricky = "a\\b\t'c'\n\"d\"";
      const [echo2] = await store.query<{ s: string }>('SELECT {s:String} AS s', { s: tricky });
      assert.equal(echo2!.s, tricky);

      await store.insertNDJSON(TABLES.toolCalls, ndjson([record({ tool: 'crm.search', tenant_id: 'acme', agent_id: HOSTILE })]));
      const found = await store.query<CallRecord>(`SELECT * FROM ${TABLES.toolCalls} WHERE agent_id = {agent:String}`, { agent: HOSTILE });
      assert.equal(found.length, 1);
      assert.equal(found[0]!.agent_id, HOSTILE);
      const none = await store.query(`SELECT * FROM ${TABLES.toolCalls} WHERE tool = {tool:String}`, { tool: HOSTILE });
      assert.equal(none.length, 0);
      const [count] = await store.query<{ n: number }>(`SELECT count() AS n FROM ${TABLES.toolCalls}`);
      assert.equal(count!.n, 4);
      if (sqlSeen) {
        assert.ok(sqlSeen().length > 0);
        assert.ok(!sqlSeen().some((q) => q.includes(HOSTILE)), 'the hostile value never appears in the SQL text');
      }
    });

    test('errors are StoreErrors with a code and the ClickHouse code', async () => {
      await assert.rejects(store.query('SELEC 1'), (err: unknown) => {
        assert.ok(err instanceof StoreError);
        assert.equal(err.driver, store.driver);
        assert.equal(err.clickhouseCode, 62);
        assert.ok(err.code.length > 0);
        return true;
      });
      await assert.rejects(store.query('SELECT * FROM mcptrail.no_such_table'), (err: unknown) => err instanceof StoreError && err.clickhouseCode === 60);
      await assert.rejects(store.insertNDJSON(TABLES.toolCalls, '{"ts":"not a time"}\n'), StoreError);
    });
  });
}

storeContract('embedded driver (chdb)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mcptrail-store-'));
  const store = await openStore({ dataDir: dir });
  assert.equal(store.driver, 'embedded');
  return {
    store,
    teardown: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

/** The http driver on a ClickHouse-HTTP test server over a fresh data directory (with credentials when `auth`). */
async function httpStoreFixture(prefix: string, serverOptions: Omit<ClickHouseHttpServerOptions, 'dataDir'>) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const server: ClickHouseHttpServer = await startClickHouseHttpServer({ dataDir: dir, ...serverOptions });
  const store = await openStore({ url: server.url, ...serverOptions.auth });
  assert.equal(store.driver, 'http');
  return {
    store,
    sqlSeen: () => server.queries,
    teardown: async () => {
      await store.close();
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

storeContract('http driver (@clickhouse/client)', () => httpStoreFixture('mcptrail-store-http-', { auth: { username: 'mcptrail', password: 's3cret' } }));

storeContract('http driver against a test server running 4 requests at once (bench/ingest.js BENCH_CHHTTP_SESSIONS)', () =>
  httpStoreFixture('mcptrail-store-http4-', { sessions: 4 }),
);

describe('test server with several sessions', () => {
  test('requests in flight together each see their own settings', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mcptrail-store-http-sessions-'));
    const server = await startClickHouseHttpServer({ dataDir: dir, sessions: 3 });
    try {
      const ask = async (n: number) => {
        const res = await fetch(`${server.url}/?max_block_size=${n}&query=${encodeURIComponent("SELECT getSetting('max_block_size') AS v, sleepEachRow(0.05) FROM numbers(3) FORMAT JSONEachRow")}`);
        assert.equal(res.status, 200);
        return (await res.text()).trim().split('\n').map((l) => Number(JSON.parse(l).v));
      };
      const sizes = [1001, 1002, 1003, 1004, 1005, 1006];
      const answers = await Promise.all(sizes.map(ask));
      assert.deepEqual(answers, sizes.map((n) => [n, n, n]));
    } finally {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('http driver failures', () => {
  test('wrong credentials surface as a StoreError with the server code; ping reports false when nothing listens', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mcptrail-store-http-auth-'));
    const server = await startClickHouseHttpServer({ dataDir: dir, auth: { username: 'mcptrail', password: 's3cret' } });
    const store = await openStore({ url: server.url, username: 'mcptrail', password: 'wrong' });
    try {
      await assert.rejects(store.query('SELECT 1'), (err: unknown) => err instanceof StoreError && err.clickhouseCode === 516);
    } finally {
      await store.close();
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
    const dead = await openStore({ url: server.url });
    assert.equal(await dead.ping(), false);
    await dead.close();
  });
});
