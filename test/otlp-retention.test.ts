/**
 * The traces and metrics TTL is configurable (`--traces-ttl-days`,
 * `--metrics-ttl-days`, MCPTRAIL_TRACES_TTL_DAYS, MCPTRAIL_METRICS_TTL_DAYS;
 * 0 = none, as the exporter's default) and applied by ALTERs only where a
 * table's TTL differs: a rerun changes nothing, and a crash between two
 * ALTERs is finished by the next start.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DEFAULT_RETENTION, migrate, migrateWithRetention, openStore, retentionFromEnv, type Store } from '../packages/collector/src/store/index.js';
import { ttlDaysOf } from '../packages/collector/src/store/retention.js';

const run = promisify(execFile);
const CLI = join(import.meta.dirname, '..', 'packages', 'collector', 'bin', 'mcptrail.js');
const TELEMETRY_TABLES = ['otel_traces', 'otel_traces_trace_id_ts', 'otel_metrics_gauge', 'otel_metrics_sum', 'otel_metrics_histogram', 'otel_metrics_exponential_histogram', 'otel_metrics_summary'];

async function ttls(store: Store): Promise<Record<string, number>> {
  const rows = await store.query<{ name: string; engine_full: string }>(
    `SELECT name, engine_full FROM system.tables WHERE database = 'mcptrail' AND name IN {names:Array(String)} ORDER BY name`,
    { names: TELEMETRY_TABLES },
  );
  return Object.fromEntries(rows.map((r) => [r.name, ttlDaysOf(r.engine_full)]));
}

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'mcptrail-retention-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('the default keeps 30 days of spans and of metric points; a rerun changes nothing', async () => {
  const store = await openStore({ dataDir: join(dir, 'default'), url: '' });
  try {
    assert.deepEqual(DEFAULT_RETENTION, { tracesTtlDays: 30, metricsTtlDays: 30 });
    const first = await migrateWithRetention(store, undefined, { retention: DEFAULT_RETENTION });
    // Migration 1 created otel_traces with 30 days; the metrics tables are created without a TTL (the exporter DDL).
    assert.deepEqual(first.retention.map((c) => c.table).sort(), TELEMETRY_TABLES.filter((t) => t.startsWith('otel_metrics')).map((t) => `mcptrail.${t}`).sort());
    assert.ok(Object.values(await ttls(store)).every((days) => days === 30));
    assert.deepEqual(await migrateWithRetention(store, undefined, { retention: DEFAULT_RETENTION }), { applied: [], retention: [] });
  } finally {
    await store.close();
  }
});

test('a changed TTL is applied to the existing tables (rows kept), 0 removes it, and the change survives a restart', async () => {
  const dataDir = join(dir, 'changed');
  let store = await openStore({ dataDir, url: '' });
  try {
    await migrate(store, undefined, { retention: DEFAULT_RETENTION });
    await store.exec(`INSERT INTO mcptrail.otel_traces (Timestamp, TraceId, SpanId, SpanName) VALUES (now64(9), '4bf92f3577b34da6a3ce929d0e0e4736', '00f067aa0ba902b7', 'kept')`);
    const changed = await migrateWithRetention(store, undefined, { retention: { tracesTtlDays: 7, metricsTtlDays: 0 } });
    assert.equal(changed.retention.length, 7);
    assert.deepEqual(await ttls(store), {
      otel_metrics_exponential_histogram: 0,
      otel_metrics_gauge: 0,
      otel_metrics_histogram: 0,
      otel_metrics_sum: 0,
      otel_metrics_summary: 0,
      otel_traces: 7,
      otel_traces_trace_id_ts: 7,
    });
    const [row] = await store.query<{ n: number }>(`SELECT count() AS n FROM mcptrail.otel_traces WHERE SpanName = 'kept'`);
    assert.equal(Number(row!.n), 1);
    await store.close();
    store = await openStore({ dataDir, url: '' });
    assert.deepEqual((await migrateWithRetention(store, undefined, { retention: { tracesTtlDays: 7, metricsTtlDays: 0 } })).retention, []);
    // As if a crash had stopped the ALTERs after the first table: the next start finishes the rest.
    await store.exec('ALTER TABLE mcptrail.otel_traces MODIFY TTL toDateTime(Timestamp) + toIntervalDay(30)');
    assert.deepEqual((await migrateWithRetention(store, undefined, { retention: { tracesTtlDays: 7, metricsTtlDays: 0 } })).retention, [{ table: 'mcptrail.otel_traces', fromDays: 30, toDays: 7 }]);
  } finally {
    await store.close();
  }
});

test('the environment names the TTLs; a bad value is refused with the variable named', () => {
  assert.deepEqual(retentionFromEnv({ MCPTRAIL_TRACES_TTL_DAYS: '14', MCPTRAIL_METRICS_TTL_DAYS: '0' }), { tracesTtlDays: 14, metricsTtlDays: 0 });
  assert.deepEqual(retentionFromEnv({ MCPTRAIL_TRACES_TTL_DAYS: ' ' }), DEFAULT_RETENTION);
  assert.throws(() => retentionFromEnv({ MCPTRAIL_TRACES_TTL_DAYS: '1.5' }), /MCPTRAIL_TRACES_TTL_DAYS must be a whole number of days/);
  assert.throws(() => retentionFromEnv({ MCPTRAIL_METRICS_TTL_DAYS: '-1' }), /MCPTRAIL_METRICS_TTL_DAYS/);
});

test('`mcptrail migrate --traces-ttl-days --metrics-ttl-days` applies them over the environment, and says so', async () => {
  const env = { ...process.env, MCPTRAIL_DATA_DIR: join(dir, 'cli'), MCPTRAIL_CLICKHOUSE_URL: '', MCPTRAIL_TRACES_TTL_DAYS: '3', MCPTRAIL_METRICS_TTL_DAYS: '5' };
  const { stdout } = await run(process.execPath, [CLI, 'migrate', '--traces-ttl-days', '9', '--json'], { env });
  const result = JSON.parse(stdout) as { applied: { version: number }[]; retention: { table: string; toDays: number }[] };
  assert.ok(result.applied.some((m) => m.version === 5));
  const byTable = Object.fromEntries(result.retention.map((r) => [r.table, r.toDays]));
  assert.equal(byTable['mcptrail.otel_traces'], 9, 'the flag over the environment');
  assert.equal(byTable['mcptrail.otel_metrics_histogram'], 5, 'the environment over the default');
  const again = await run(process.execPath, [CLI, 'migrate', '--traces-ttl-days', '9'], { env });
  assert.match(again.stdout, /^schema is up to date/);
  const bad = await run(process.execPath, [CLI, 'migrate', '--metrics-ttl-days', 'forever'], { env }).catch((err: { code: number; stderr: string }) => err);
  assert.equal((bad as { code: number }).code, 2);
  assert.match((bad as { stderr: string }).stderr, /--metrics-ttl-days must be a whole number of days/);
});
