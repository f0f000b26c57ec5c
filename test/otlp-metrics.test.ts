/**
 * POST /v1/metrics into the OpenTelemetry Collector ClickHouse exporter's
 * metrics tables: the tables are the exporter's own DDL, column by column;
 * what the real OpenTelemetry JS exporters send (JSON and protobuf, plain and
 * gzip, cumulative and delta) lands for every metric type the SDK produces,
 * with the semantic-convention names; summaries, exemplars and the edge cases
 * the SDK does not produce are stored as the exporter stores them; and the
 * route has the same token, limits and backpressure as /v1/traces.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { TABLES, migrate, openStore, type Store } from '../packages/collector/src/store/index.js';
import { OTEL_METRICS_TABLES } from '../packages/collector/src/store/schema.js';
import { ExportMetricsServiceRequest, ExportMetricsServiceResponse } from '../packages/collector/src/collector/otlp/proto.js';
import { METRIC_MCP_SERVER_OPERATION_DURATION } from '@opentelemetry/semantic-conventions/incubating';
import { countRows, startTestCollector, type TestCollector } from './support/reliability-collector.js';
import { EXPORTER_DB, EXPORTER_METRICS_DDL, exporterTracesDdl } from './support/exporter-ddl.js';
import { MCP_DURATION_BUCKETS, SERVICE_NAME, emitMetrics, otlpMetricExporter, type ExporterKind } from './support/otlp-fixtures.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const INGEST_TOKEN = 'ingest-token-for-otlp-metrics-tests';

/** What system tables say about a table's shape: columns, indexes, keys. */
async function shapeOf(store: Store, database: string, table: string) {
  const params = { db: database, t: table };
  const columns = await store.query(
    `SELECT name, type, default_kind, default_expression, compression_codec FROM system.columns WHERE database = {db:String} AND table = {t:String} ORDER BY position`,
    params,
  );
  const indexes = await store.query(`SELECT name, type_full, expr, granularity FROM system.data_skipping_indices WHERE database = {db:String} AND table = {t:String}`, params);
  const [keys] = await store.query(`SELECT engine, partition_key, sorting_key, primary_key FROM system.tables WHERE database = {db:String} AND name = {t:String}`, params);
  return { columns, indexes, keys };
}

describe('the metrics tables are the exporter DDL', () => {
  let dir: string;
  let store: Store;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mcptrail-metrics-ddl-'));
    store = await openStore({ dataDir: dir, url: '' });
    await migrate(store, undefined, { retention: { tracesTtlDays: 0, metricsTtlDays: 0 } });
    await store.exec(`CREATE DATABASE IF NOT EXISTS ${EXPORTER_DB}`);
    for (const ddl of Object.values(EXPORTER_METRICS_DDL)) await store.exec(ddl);
    await store.exec(exporterTracesDdl(true));
    await store.exec(exporterTracesDdl(false));
  });
  after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  for (const table of OTEL_METRICS_TABLES) {
    const name = table.split('.')[1]!;
    test(`${name}: columns (names, types, order, codecs), indexes and keys`, async () => {
      const ours = await shapeOf(store, 'mcptrail', name);
      assert.ok(ours.columns.length > 15, `${name} exists`);
      assert.deepEqual(ours, await shapeOf(store, EXPORTER_DB, name));
    });
  }

  test('otel_traces has the exporter full-text indexes on an engine that supports them (chdb is 26.x)', async () => {
    const [{ v }] = await store.query<{ v: string }>('SELECT version() AS v');
    assert.ok(Number(v.split('.')[0]) >= 26, `engine ${v}`);
    assert.deepEqual(await shapeOf(store, 'mcptrail', 'otel_traces'), await shapeOf(store, EXPORTER_DB, 'otel_traces'));
  });
});

describe('text indexes are decided from the engine version', () => {
  test('on a server older than 26.2, migration 5 keeps the bloom-filter indexes, as the exporter would', async () => {
    const oldDir = mkdtempSync(join(tmpdir(), 'mcptrail-metrics-old-'));
    const real = await openStore({ dataDir: oldDir, url: '' });
    try {
      // The engine is 26.x; only its version answer is made older, which is what migration 5 reads.
      const older: Store = Object.create(real);
      older.query = (sql, params) => (/version\(\)/.test(sql) ? Promise.resolve([{ v: '25.8.4.1' }] as never) : real.query(sql, params));
      await migrate(older);
      await real.exec(`CREATE DATABASE IF NOT EXISTS ${EXPORTER_DB}`);
      await real.exec(exporterTracesDdl(false));
      const ours = await shapeOf(real, 'mcptrail', 'otel_traces');
      assert.deepEqual(ours.indexes, (await shapeOf(real, EXPORTER_DB, 'otel_traces_bloom')).indexes);
      assert.ok(ours.indexes.some((i) => i.type_full === 'bloom_filter(0.001)'));
    } finally {
      await real.close();
      rmSync(oldDir, { recursive: true, force: true });
    }
  });
});

interface HistogramRow {
  MetricName: string;
  MetricDescription: string;
  MetricUnit: string;
  ServiceName: string;
  attrs: [string, string][];
  resource: Record<string, string>;
  ScopeName: string;
  ScopeVersion: string;
  Count: number;
  Sum: number;
  BucketCounts: number[];
  ExplicitBounds: number[];
  Min: number;
  Max: number;
  AggregationTemporality: number;
  time: number;
  start: number;
}

describe('real OTel JS metric exporters → /v1/metrics → otel_metrics_*', () => {
  let c: TestCollector;
  before(async () => {
    c = await startTestCollector({ ingestToken: INGEST_TOKEN });
  });
  after(() => c.close());

  const where = `WHERE ResourceAttributes['test.run'] = {run:String}`;

  const VARIANTS: { kind: ExporterKind; gzip: boolean; delta?: boolean }[] = [
    { kind: 'json', gzip: false },
    { kind: 'protobuf', gzip: false },
    { kind: 'json', gzip: true },
    { kind: 'protobuf', gzip: true, delta: true },
  ];

  for (const { kind, gzip, delta } of VARIANTS) {
    test(`${kind}${gzip ? ' + gzip' : ''}${delta ? ', delta temporality' : ''}: every metric type the SDK produces`, async () => {
      const runId = `${kind}-${gzip}-${delta ?? false}`;
      const exporter = otlpMetricExporter(kind, `${c.base}/v1/metrics`, { gzip, delta, headers: { Authorization: `Bearer ${INGEST_TOKEN}` } });
      const emitted = await emitMetrics(exporter, runId);
      assert.deepEqual(emitted.exportResults, [0], 'one export, acknowledged');
      const temporality = delta ? 1 : 2;
      const [beforeS, afterS] = [Number(emitted.beforeNs / 1_000_000_000n), Number(emitted.afterNs / 1_000_000_000n)];

      const histograms = await c.store.query<HistogramRow>(
        `SELECT MetricName, MetricDescription, MetricUnit, ServiceName, CAST(Attributes, 'Array(Tuple(String, String))') AS attrs, ResourceAttributes AS resource,
                ScopeName, ScopeVersion, Count, Sum, BucketCounts, ExplicitBounds, Min, Max, AggregationTemporality,
                toUnixTimestamp(TimeUnix) AS time, toUnixTimestamp(StartTimeUnix) AS start
         FROM ${TABLES.otelMetricsHistogram} ${where} ORDER BY Count DESC`,
        { run: runId },
      );
      assert.equal(histograms.length, 2, 'one point per attribute set');
      const [ok, refund] = histograms as [HistogramRow, HistogramRow];
      assert.equal(ok.MetricName, METRIC_MCP_SERVER_OPERATION_DURATION);
      assert.equal(ok.MetricUnit, 's');
      assert.equal(ok.MetricDescription, 'MCP request duration as observed on the receiver');
      assert.equal(ok.ServiceName, SERVICE_NAME);
      assert.equal(ok.resource['service.name'], SERVICE_NAME);
      assert.equal(ok.ScopeName, 'mcptrail-fixtures');
      assert.equal(ok.ScopeVersion, '1.2.3');
      assert.deepEqual(ok.attrs, [
        ['gen_ai.tool.name', 'crm.search_contacts'],
        ['mcp.method.name', 'tools/call'],
        ['mcp.protocol.version', '2025-06-18'],
      ]);
      assert.deepEqual(ok.ExplicitBounds, MCP_DURATION_BUCKETS);
      assert.equal(ok.BucketCounts.length, MCP_DURATION_BUCKETS.length + 1);
      assert.equal(ok.Count, 2);
      assert.ok(Math.abs(ok.Sum - 0.315) < 1e-9);
      assert.deepEqual([ok.Min, ok.Max], [0.015, 0.3]);
      assert.equal(ok.BucketCounts[1], 1, '0.015 in (0.01, 0.02]');
      assert.equal(ok.BucketCounts[5], 1, '0.3 in (0.2, 0.5]');
      assert.equal(ok.AggregationTemporality, temporality);
      assert.ok(ok.time >= beforeS && ok.time <= afterS, `TimeUnix ${ok.time} within the export`);
      assert.ok(ok.start <= ok.time);
      assert.deepEqual(refund.attrs.find(([k]) => k === 'error.type'), ['error.type', 'tool_error']);
      assert.equal(refund.BucketCounts[9], 1, '7 s in (5, 10]');

      const [exp] = await c.store.query<{ Count: number; Sum: number; Scale: number; ZeroCount: number; pos: number; Min: number; Max: number; MetricUnit: string; AggregationTemporality: number }>(
        `SELECT Count, Sum, Scale, ZeroCount, arraySum(PositiveBucketCounts) AS pos, Min, Max, MetricUnit, AggregationTemporality
         FROM ${TABLES.otelMetricsExponentialHistogram} ${where} AND MetricName = 'test.exp_histogram'`,
        { run: runId },
      );
      assert.deepEqual({ ...exp }, { Count: 5, Sum: 1007.5, Scale: exp!.Scale, ZeroCount: 0, pos: 5, Min: 0.5, Max: 1000, MetricUnit: 'ms', AggregationTemporality: temporality });
      assert.ok(exp!.Scale <= 20 && exp!.Scale >= -10);

      const sums = await c.store.query<{ MetricName: string; Value: number; IsMonotonic: boolean; AggregationTemporality: number; attrs: [string, string][] }>(
        `SELECT MetricName, Value, IsMonotonic, AggregationTemporality, CAST(Attributes, 'Array(Tuple(String, String))') AS attrs FROM ${TABLES.otelMetricsSum} ${where} ORDER BY MetricName`,
        { run: runId },
      );
      assert.deepEqual(
        sums.map((s) => [s.MetricName, s.Value, s.IsMonotonic]),
        [
          ['test.counter', 7, true],
          ['test.int_counter', 2 ** 40, true],
          ['test.updown', -3, false],
        ],
      );
      // Up-down counters stay cumulative under the delta preference (the SDK's DeltaTemporalitySelector).
      assert.deepEqual(sums.map((s) => s.AggregationTemporality), [temporality, temporality, 2]);
      assert.deepEqual(sums[0]!.attrs.map(([k]) => k), ['10', '9', 'b'], 'keys in byte order, integer-like ones included');

      const gauges = await c.store.query<{ MetricName: string; Value: number; MetricUnit: string }>(
        `SELECT MetricName, Value, MetricUnit FROM ${TABLES.otelMetricsGauge} ${where} ORDER BY MetricName`,
        { run: runId },
      );
      assert.deepEqual(gauges.map((g) => [g.MetricName, g.Value, g.MetricUnit]), [
        ['test.gauge', 42.5, '1'],
        ['test.observable', 12, ''],
      ]);
    });
  }

  test('without the ingest token the exporter is refused and nothing is stored', async () => {
    const before = await Promise.all(OTEL_METRICS_TABLES.map((t) => countRows(c.store, t)));
    const emitted = await emitMetrics(otlpMetricExporter('protobuf', `${c.base}/v1/metrics`), 'no-token');
    assert.ok(emitted.exportResults.every((code) => code !== 0), 'export reported failure');
    assert.deepEqual(await Promise.all(OTEL_METRICS_TABLES.map((t) => countRows(c.store, t))), before);
  });
});

describe('OTLP metrics the SDK does not produce', () => {
  let c: TestCollector;
  before(async () => {
    c = await startTestCollector();
  });
  after(() => c.close());

  const nowNs = BigInt(Math.floor(Date.now() / 1000)) * 1_000_000_000n;
  const kv = (key: string, value: Record<string, unknown>) => ({ key, value });

  /** A request with a summary, exemplars, a NaN, an int beyond 2^53, a metric without data and a point after 2106. */
  function handBuilt(ids: (hex: string) => unknown, run: string, nan: unknown) {
    const time = String(nowNs + 123_456_789n);
    return {
      resourceMetrics: [
        {
          schemaUrl: 'https://opentelemetry.io/schemas/1.30.0',
          resource: { attributes: [kv('service.name', { intValue: '7' }), kv('test.run', { stringValue: run })] },
          scopeMetrics: [
            {
              schemaUrl: 'https://scope.example/1',
              scope: { name: 'hand', version: '9', attributes: [kv('z', { boolValue: true }), kv('a', { doubleValue: 1e21 })], droppedAttributesCount: 3 },
              metrics: [
                {
                  name: 'rpc.server.duration.summary',
                  unit: 'ms',
                  summary: { dataPoints: [{ timeUnixNano: time, startTimeUnixNano: String(nowNs - 60_000_000_000n), count: '18446744073709551615', sum: 12.5, quantileValues: [{ quantile: 0.5, value: 1 }, { quantile: 0.99, value: 9.5 }], flags: 1 }] },
                },
                {
                  name: 'queue.depth',
                  gauge: {
                    dataPoints: [
                      {
                        timeUnixNano: time,
                        asInt: '9007199254740993',
                        attributes: [kv('q', { stringValue: 'a' })],
                        exemplars: [
                          { timeUnixNano: time, asDouble: 2.5, traceId: ids('5b8efff798038103d269b633813fc60c'), spanId: ids('eee19b7ec3c1b174'), filteredAttributes: [kv('user', { stringValue: 'u1' })] },
                          { timeUnixNano: time, asInt: '4' },
                        ],
                      },
                      { timeUnixNano: time, asDouble: nan, attributes: [kv('q', { stringValue: 'nan' })] },
                      { timeUnixNano: '4294967296000000000', asDouble: 1, attributes: [kv('q', { stringValue: 'after 2106' })] },
                    ],
                  },
                },
                { name: 'no.data' },
              ],
            },
          ],
        },
      ],
    };
  }

  async function checkStored(run: string) {
    const [summary] = await c.store.query<Record<string, unknown>>(
      `SELECT ServiceName, ResourceSchemaUrl, ScopeSchemaUrl, CAST(ScopeAttributes, 'Array(Tuple(String, String))') AS scope, ScopeDroppedAttrCount,
              toString(Count) AS count, Sum, ValueAtQuantiles.Quantile AS q, ValueAtQuantiles.Value AS v, Flags, MetricUnit,
              toUnixTimestamp(TimeUnix) - toUnixTimestamp(StartTimeUnix) AS span
       FROM ${TABLES.otelMetricsSummary} WHERE ResourceAttributes['test.run'] = {run:String}`,
      { run },
    );
    assert.deepEqual(summary, {
      ServiceName: '7',
      ResourceSchemaUrl: 'https://opentelemetry.io/schemas/1.30.0',
      ScopeSchemaUrl: 'https://scope.example/1',
      scope: [
        ['a', '1e+21'],
        ['z', 'true'],
      ],
      ScopeDroppedAttrCount: 3,
      count: '18446744073709551615',
      Sum: 12.5,
      q: [0.5, 0.99],
      v: [1, 9.5],
      Flags: 1,
      MetricUnit: 'ms',
      span: 60,
    });
    const gauges = await c.store.query<{ q: string; Value: number | null; isNaN: number; ex: Record<string, unknown> }>(
      `SELECT Attributes['q'] AS q, Value, isNaN(Value) AS isNaN,
              tuple(Exemplars.Value, Exemplars.TraceId, Exemplars.SpanId, Exemplars.FilteredAttributes, arrayMap(t -> toUnixTimestamp(t), Exemplars.TimeUnix)) AS ex
       FROM ${TABLES.otelMetricsGauge} WHERE ResourceAttributes['test.run'] = {run:String} ORDER BY q`,
      { run },
    );
    assert.deepEqual(gauges.map((g) => g.q), ['a', 'nan'], 'the point after 2106 is not stored');
    assert.equal(gauges[0]!.Value, 9007199254740992, 'an int value stored as Float64, as float64(int64) rounds it');
    assert.deepEqual(Object.values(gauges[0]!.ex), [
      [2.5, 4],
      ['5b8efff798038103d269b633813fc60c', '00000000000000000000000000000000'],
      ['eee19b7ec3c1b174', '0000000000000000'],
      [{ user: 'u1' }, {}],
      [Number(nowNs / 1_000_000_000n), Number(nowNs / 1_000_000_000n)],
    ]);
    assert.equal(gauges[1]!.isNaN, 1, 'NaN stored as NaN');
  }

  test('JSON: stored as the exporter stores them; the unstorable point is a partialSuccess, the empty metric a warning', async () => {
    const res = await fetch(`${c.base}/v1/metrics`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(handBuilt((h) => h, 'json', 'NaN')) });
    assert.equal(res.status, 200);
    const body = (await res.json()) as { partialSuccess: { rejectedDataPoints: string; errorMessage: string } };
    assert.equal(body.partialSuccess.rejectedDataPoints, '1');
    assert.match(body.partialSuccess.errorMessage, /after 2106/);
    await checkStored('json');
  });

  test('protobuf: the same request, the same rows, the answer in protobuf', async () => {
    const message = ExportMetricsServiceRequest.fromObject(handBuilt((h) => Buffer.from(h, 'hex'), 'protobuf', NaN));
    const res = await fetch(`${c.base}/v1/metrics`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip' },
      body: gzipSync(ExportMetricsServiceRequest.encode(message).finish()),
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/x-protobuf');
    const answer = ExportMetricsServiceResponse.toObject(ExportMetricsServiceResponse.decode(new Uint8Array(await res.arrayBuffer())), { longs: String });
    assert.equal(answer.partialSuccess.rejectedDataPoints, '1');
    await checkStored('protobuf');
  });

  test('a metric without data alone is a warning (rejected 0, a message), nothing stored', async () => {
    const res = await fetch(`${c.base}/v1/metrics`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ resourceMetrics: [{ scopeMetrics: [{ metrics: [{ name: 'empty' }] }] }] }) });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { partialSuccess: { rejectedDataPoints: '0', errorMessage: 'a metric has no data (gauge, sum, histogram, exponentialHistogram or summary)' } });
  });

  test('structurally wrong metrics are a 400 naming the path, and store nothing', async () => {
    const cases: [unknown, RegExp][] = [
      [{ resourceMetrics: {} }, /^resourceMetrics: expected array/],
      [{ resourceMetrics: [{ scopeMetrics: [{ metrics: [{ name: 'x', gauge: {}, sum: {} }] }] }] }, /metrics\[0\]: more than one of gauge, sum/],
      [{ resourceMetrics: [{ scopeMetrics: [{ metrics: [{ histogram: { dataPoints: [{ bucketCounts: [1, -1] }] } }] }] }] }, /dataPoints\[0\]\.bucketCounts\[1\]: expected an unsigned 64-bit integer/],
      [{ resourceMetrics: [{ scopeMetrics: [{ metrics: [{ sum: { aggregationTemporality: 'SOMETIMES' } }] }] }] }, /sum\.aggregationTemporality: unknown enum value/],
      [{ resourceMetrics: [{ scopeMetrics: [{ metrics: [{ gauge: { dataPoints: [{ asDouble: 1, asInt: 1 }] } }] }] }] }, /dataPoints\[0\]: more than one of asDouble, asInt/],
      [{ resourceMetrics: [{ scopeMetrics: [{ metrics: [{ exponentialHistogram: { dataPoints: [{ scale: 2 ** 31 }] } }] }] }] }, /scale: expected a 32-bit integer/],
      [{ resourceMetrics: [{ scopeMetrics: [{ metrics: [null] }] }] }, /metrics\[0\]: expected object/],
    ];
    const before = await Promise.all(OTEL_METRICS_TABLES.map((t) => countRows(c.store, t)));
    for (const [body, message] of cases) {
      const res = await fetch(`${c.base}/v1/metrics`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.match(((await res.json()) as { message: string }).message, message);
    }
    assert.deepEqual(await Promise.all(OTEL_METRICS_TABLES.map((t) => countRows(c.store, t))), before);
  });
});

describe('/v1/metrics limits and backpressure, as /v1/traces', () => {
  const gauge = (n: number, table = 'gauge') => ({
    name: `m.${table}`,
    [table]: { dataPoints: Array.from({ length: n }, (_, i) => ({ timeUnixNano: String(BigInt(Date.now()) * 1_000_000n), asDouble: i, attributes: [{ key: 'i', value: { intValue: i } }] })) },
  });
  const post = (base: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${base}/v1/metrics`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body) });

  test('a gzip bomb is a 413 and stores nothing', async () => {
    const c = await startTestCollector({ limits: { maxBodyBytes: 256 * 1024, maxDecompressedBytes: 1024 * 1024 } });
    try {
      const res = await post(c.base, gzipSync(Buffer.alloc(16 * 1024 * 1024, 0x20)), { 'content-encoding': 'gzip' });
      assert.equal(res.status, 413);
      assert.equal(((await res.json()) as { code: number }).code, 8, 'RESOURCE_EXHAUSTED');
    } finally {
      await c.close();
    }
  });

  test('past the pending-row bound a request spanning two tables is refused whole (429 + Retry-After), none of its rows stored', async () => {
    const c = await startTestCollector({ batch: { maxDelayMs: 400, maxRows: 10_000, maxPendingRows: 100 } });
    try {
      const first = post(c.base, { resourceMetrics: [{ scopeMetrics: [{ metrics: [gauge(80)] }] }] });
      await new Promise((r) => setTimeout(r, 50));
      const refused = await post(c.base, { resourceMetrics: [{ scopeMetrics: [{ metrics: [gauge(10, 'sum'), gauge(20)] }] }] });
      assert.equal(refused.status, 429);
      assert.equal(refused.headers.get('retry-after'), '1');
      assert.equal((await first).status, 200);
      assert.equal(await countRows(c.store, TABLES.otelMetricsGauge), 80);
      assert.equal(await countRows(c.store, TABLES.otelMetricsSum), 0, 'the sum rows of the refused request were not queued either');
    } finally {
      await c.close();
    }
  });
});
