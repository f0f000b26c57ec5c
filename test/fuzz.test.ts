/**
 * Seeded mutation fuzzing of every input surface, with four invariants:
 * never a 5xx for bad input, never a crash (the collector still answers),
 * never a stored row from a rejected request, and for OTLP partial success
 * as the spec has it (a 200 stores every span it does not report rejected).
 * Mutations are by value (bytes, characters), by type (every path of an
 * OTLP/JSON document swapped for each other JSON type) and by depth. Seeds
 * are fixed, so a failure reproduces; FUZZ_RUNS raises the count.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createAuthenticator } from '../packages/mcptrail/src/auth/index.js';
import { TABLES } from '../packages/collector/src/store/index.js';
import { ExportMetricsServiceRequest, ExportTraceServiceRequest } from '../packages/collector/src/collector/otlp/proto.js';
import { OTEL_METRICS_TABLES } from '../packages/collector/src/store/schema.js';
import { callRecord, countRows, ndjson, startTestCollector, type TestCollector } from './support/reliability-collector.js';
import { mutateBytes, mutateDepth, mutateText, rng, typeConfusions } from './support/reliability-fuzz.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 150);

function otlpJson(): string {
  const now = String(BigInt(Date.now()) * 1_000_000n);
  return JSON.stringify({
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'crm' } }] },
        scopeSpans: [
          {
            scope: { name: 's', version: '1' },
            spans: [
              {
                traceId: '5b8efff798038103d269b633813fc60c',
                spanId: 'eee19b7ec3c1b174',
                parentSpanId: '',
                name: 'tools/call crm.search',
                kind: 2,
                startTimeUnixNano: now,
                endTimeUnixNano: now,
                attributes: [{ key: 'a', value: { intValue: '7' } }, { key: 'b', value: { arrayValue: { values: [{ boolValue: true }] } } }],
                events: [{ timeUnixNano: now, name: 'e', attributes: [] }],
                status: { code: 2, message: 'x' },
              },
            ],
          },
        ],
      },
    ],
  });
}

function otlpMetricsJson(): string {
  const now = String(BigInt(Date.now()) * 1_000_000n);
  const attributes = [{ key: 'mcp.method.name', value: { stringValue: 'tools/call' } }, { key: 'n', value: { intValue: '3' } }];
  const point = { attributes, startTimeUnixNano: now, timeUnixNano: now };
  return JSON.stringify({
    resourceMetrics: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'crm' } }] },
        scopeMetrics: [
          {
            scope: { name: 's', version: '1' },
            metrics: [
              { name: 'g', unit: '1', gauge: { dataPoints: [{ ...point, asDouble: 1.5, exemplars: [{ timeUnixNano: now, asInt: '2', traceId: '5b8efff798038103d269b633813fc60c', spanId: 'eee19b7ec3c1b174' }] }] } },
              { name: 's', sum: { aggregationTemporality: 2, isMonotonic: true, dataPoints: [{ ...point, asInt: '7' }] } },
              { name: 'mcp.server.operation.duration', unit: 's', histogram: { aggregationTemporality: 1, dataPoints: [{ ...point, count: '3', sum: 0.5, bucketCounts: ['1', '2', '0'], explicitBounds: [0.1, 1], min: 0.01, max: 0.4 }] } },
              { name: 'e', exponentialHistogram: { aggregationTemporality: 2, dataPoints: [{ ...point, count: '2', sum: 3, scale: 3, zeroCount: '0', positive: { offset: -2, bucketCounts: ['1', '1'] }, negative: { offset: 0, bucketCounts: [] } }] } },
              { name: 'q', summary: { dataPoints: [{ ...point, count: '4', sum: 10, quantileValues: [{ quantile: 0.5, value: 2 }] }] } },
            ],
          },
        ],
      },
    ],
  });
}

/** The data points a structurally valid OTLP/JSON metrics document holds. */
function pointCount(doc: unknown): number | undefined {
  if (doc === null || typeof doc !== 'object') return undefined;
  const list = (v: unknown) => (Array.isArray(v) ? v : []);
  let n = 0;
  for (const rm of list((doc as { resourceMetrics?: unknown }).resourceMetrics)) {
    for (const sm of list((rm as { scopeMetrics?: unknown } | null)?.scopeMetrics)) {
      for (const m of list((sm as { metrics?: unknown } | null)?.metrics)) {
        for (const kind of ['gauge', 'sum', 'histogram', 'exponentialHistogram', 'summary']) n += list((m as Record<string, { dataPoints?: unknown } | null> | null)?.[kind]?.dataPoints).length;
      }
    }
  }
  return n;
}

/** The spans a structurally valid OTLP/JSON traces document holds. */
function spanCount(doc: unknown): number | undefined {
  const list = (v: unknown) => (Array.isArray(v) ? v : []);
  const d = doc as { resourceSpans?: unknown };
  if (doc === null || typeof doc !== 'object') return undefined;
  return list(d.resourceSpans).reduce<number>((n, rs) => n + list((rs as { scopeSpans?: unknown } | null)?.scopeSpans).reduce<number>((m, ss) => m + list((ss as { spans?: unknown } | null)?.spans).length, 0), 0);
}

/**
 * Makes a document's rows differ from every other case's: the writer's insert dedup token is the
 * batch's content, so a case whose rows equal an earlier one's is (rightly) stored once.
 */
function markUnique(doc: unknown, i: number): void {
  const d = doc as { resourceSpans?: { scopeSpans?: { scope?: { name?: unknown }; spans?: { name?: unknown; traceState?: unknown }[] }[] }[] };
  for (const rs of Array.isArray(d?.resourceSpans) ? d.resourceSpans : []) {
    for (const ss of Array.isArray(rs?.scopeSpans) ? rs.scopeSpans : []) {
      if (ss?.scope && typeof ss.scope.name === 'string') ss.scope.name += `#${i}`;
      for (const span of Array.isArray(ss?.spans) ? ss.spans : []) {
        if (span && typeof span.name === 'string') span.name += `#${i}`;
        if (span && typeof span.traceState === 'string') span.traceState += `k${i}=v`;
      }
    }
  }
}

/** markUnique for a metrics document: every metric name gets the case number. */
function markUniqueMetrics(doc: unknown, i: number): void {
  const d = doc as { resourceMetrics?: { scopeMetrics?: { metrics?: { name?: unknown }[] }[] }[] };
  for (const rm of Array.isArray(d?.resourceMetrics) ? d.resourceMetrics : []) {
    for (const sm of Array.isArray(rm?.scopeMetrics) ? rm.scopeMetrics : []) {
      for (const m of Array.isArray(sm?.metrics) ? sm.metrics : []) if (m && typeof m.name === 'string') m.name += `#${i}`;
    }
  }
}

describe('fuzz', () => {
  let c: TestCollector;
  before(async () => {
    c = await startTestCollector({ batch: { maxDelayMs: 2 } });
    // No TTL: a mutated time of 0 (1970) is stored and stays, so "a 200 stores what it accepts" can be counted.
    for (const table of [TABLES.otelTraces, ...OTEL_METRICS_TABLES]) await c.store.exec(`ALTER TABLE ${table} REMOVE TTL`);
  });
  after(() => c.close());

  /** Posts one mutated body; asserts the invariants; returns the status. */
  async function probe(path: string, contentType: string, body: string | Buffer, table: string): Promise<number> {
    return (await probeOtlp(path, contentType, body, [table])).status;
  }

  /**
   * `probe` for OTLP: also returns the partialSuccess counter of a 200 and how many rows it
   * added to `tables`, and when `items` (the spans or points the body holds) is known, checks
   * that a 200 stored each item it did not report rejected.
   */
  async function probeOtlp(path: string, contentType: string, body: string | Buffer, tables: readonly string[], items?: number) {
    const count = async () => Number((await c.store.query<{ n: number }>(`SELECT ${tables.map((t) => `(SELECT count() FROM ${t})`).join(' + ')} AS n`))[0]!.n);
    const before = await count();
    const res = await fetch(`${c.base}${path}`, { method: 'POST', headers: { 'content-type': contentType }, body });
    const answer = Buffer.from(await res.arrayBuffer());
    assert.ok(res.status < 500, `${path} answered ${res.status} to ${JSON.stringify(String(body).slice(0, 2000))}`);
    const added = (await count()) - before;
    if (res.status !== 200) assert.equal(added, 0, `${path}: a rejected request stored rows`);
    let rejected = 0;
    if (res.status === 200 && contentType === 'application/json') {
      const partial = (JSON.parse(answer.toString() || '{}') as { partialSuccess?: Record<string, string> }).partialSuccess;
      rejected = Number(partial?.rejectedSpans ?? partial?.rejectedDataPoints ?? 0);
      if (items !== undefined) assert.equal(added + rejected, items, `${path}: ${items} items, ${added} stored, ${rejected} reported rejected: ${String(body).slice(0, 3000)}`);
    }
    return { status: res.status, added, rejected };
  }

  test('/v1/records NDJSON', async () => {
    const random = rng(0x5eed01);
    const seed = ndjson(Array.from({ length: 3 }, () => callRecord()));
    const statuses = new Map<number, number>();
    for (let i = 0; i < RUNS; i++) {
      let body = seed.replace(/[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}/g, () => crypto.randomUUID());
      for (let k = 0, n = 1 + Math.floor(random() * 3); k < n; k++) body = mutateText(body, random);
      // Every third run: structurally valid, hostile values (these may well be stored).
      if (i % 3 === 0) body = ndjson([callRecord({ agent_id: mutateText('agent-1', random), tenant_id: mutateText('acme', random), args_summary: mutateText('{"q":"x"}', random) })]);
      const s = await probe('/v1/records', 'application/x-ndjson', body, TABLES.toolCalls);
      statuses.set(s, (statuses.get(s) ?? 0) + 1);
    }
    assert.ok((statuses.get(400) ?? 0) > 0, 'the fuzzer reached the validator');
    assert.ok((statuses.get(200) ?? 0) > 0, 'hostile but valid values are stored');
    console.log(`# /v1/records statuses ${JSON.stringify(Object.fromEntries(statuses))}`);
  });

  test('/v1/traces JSON and protobuf', async () => {
    const random = rng(0x5eed02);
    const json = otlpJson();
    const proto = ExportTraceServiceRequest.encode(ExportTraceServiceRequest.fromObject(JSON.parse(json.replace(/"(traceId|spanId)":"([0-9a-f]*)"/g, (_m, k, v) => `"${k}":"${Buffer.from(v, 'hex').toString('base64')}"`)))).finish();
    const statuses = new Map<string, number>();
    for (let i = 0; i < RUNS; i++) {
      const s1 = await probe('/v1/traces', 'application/json', mutateText(json, random), TABLES.otelTraces);
      const s2 = await probe('/v1/traces', 'application/x-protobuf', mutateBytes(proto, random), TABLES.otelTraces);
      statuses.set(`json ${s1}`, (statuses.get(`json ${s1}`) ?? 0) + 1);
      statuses.set(`proto ${s2}`, (statuses.get(`proto ${s2}`) ?? 0) + 1);
    }
    console.log(`# /v1/traces statuses ${JSON.stringify(Object.fromEntries(statuses))}`);
  });

  test('/v1/traces JSON: every path swapped for every other JSON type', async () => {
    const seed = JSON.parse(otlpJson());
    const statuses = new Map<number, number>();
    let cases = 0;
    for (const { doc } of typeConfusions(seed)) {
      markUnique(doc, cases);
      const { status } = await probeOtlp('/v1/traces', 'application/json', JSON.stringify(doc), [TABLES.otelTraces], spanCount(doc));
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
      cases++;
    }
    assert.ok(cases > 300, `${cases} type confusions`);
    assert.ok((statuses.get(400) ?? 0) > cases / 2, 'most confusions are refused');
    console.log(`# /v1/traces type confusions ${JSON.stringify(Object.fromEntries(statuses))}`);
  });

  test('/v1/traces JSON: values nested up to 5,000 deep at random paths', async () => {
    const random = rng(0x5eed06);
    const seed = JSON.parse(otlpJson());
    const statuses = new Map<number, number>();
    for (let i = 0; i < Math.max(40, RUNS / 2); i++) {
      const body = mutateDepth(seed, random);
      const { status } = await probeOtlp('/v1/traces', 'application/json', body, [TABLES.otelTraces]);
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
    }
    assert.ok((statuses.get(400) ?? 0) > 0);
    console.log(`# /v1/traces depth mutations ${JSON.stringify(Object.fromEntries(statuses))}`);
  });

  test('/v1/metrics JSON and protobuf, by value, type and depth', async () => {
    const random = rng(0x5eed07);
    const json = otlpMetricsJson();
    const seed = JSON.parse(json);
    const proto = ExportMetricsServiceRequest.encode(ExportMetricsServiceRequest.fromObject(JSON.parse(json.replace(/"(traceId|spanId)":"([0-9a-f]*)"/g, (_m, k, v) => `"${k}":"${Buffer.from(v, 'hex').toString('base64')}"`)))).finish();
    const statuses = new Map<string, number>();
    const count = (key: string) => statuses.set(key, (statuses.get(key) ?? 0) + 1);
    let i = 0;
    // Every path, three other types each (in rotation): the full sweep is the traces test's.
    for (const { doc } of typeConfusions(seed, 3)) {
      markUniqueMetrics(doc, i++);
      count(`type ${(await probeOtlp('/v1/metrics', 'application/json', JSON.stringify(doc), OTEL_METRICS_TABLES, pointCount(doc))).status}`);
    }
    for (let k = 0; k < RUNS / 2; k++) {
      count(`json ${(await probeOtlp('/v1/metrics', 'application/json', mutateText(json, random), OTEL_METRICS_TABLES)).status}`);
      count(`proto ${(await probeOtlp('/v1/metrics', 'application/x-protobuf', mutateBytes(proto, random), OTEL_METRICS_TABLES)).status}`);
      if (k % 4 === 0) count(`depth ${(await probeOtlp('/v1/metrics', 'application/json', mutateDepth(seed, random), OTEL_METRICS_TABLES)).status}`);
    }
    assert.ok(i > 300, `${i} type confusions`);
    assert.ok((statuses.get('type 200') ?? 0) > 0 && (statuses.get('type 400') ?? 0) > i / 2);
    console.log(`# /v1/metrics statuses ${JSON.stringify(Object.fromEntries(statuses))}`);
  });

  test('/v1/events', async () => {
    const random = rng(0x5eed03);
    const seed = JSON.stringify({ ts: new Date().toISOString(), service: 's', instance: 'i', event: 'shipper_drop', reason: 'spool_full', count: 3 }) + '\n';
    for (let i = 0; i < RUNS; i++) await probe('/v1/events', 'application/x-ndjson', mutateText(seed, random), TABLES.pipelineEvents);
  });

  test('audit API query strings and trace ids', async () => {
    const random = rng(0x5eed04);
    const seeds = ['tool=crm.search&tenant=acme&since=15m&limit=10', 'outcome=denied&agent=a', 'since=31d&limit=1000'];
    for (let i = 0; i < RUNS; i++) {
      const q = mutateText(seeds[i % seeds.length]!, random);
      const res = await fetch(`${c.base}/api/calls?${q}`);
      await res.arrayBuffer();
      assert.ok(res.status < 500, `/api/calls?${q} answered ${res.status}`);
      const id = mutateText('5b8efff798038103d269b633813fc60c', random);
      const t = await fetch(`${c.base}/api/traces/${encodeURIComponent(id.replace(/[\ud800-\udfff]/g, ''))}`);
      await t.arrayBuffer();
      assert.ok(t.status < 500, `/api/traces/${id} answered ${t.status}`);
    }
    assert.equal((await fetch(`${c.base}/healthz`)).status, 200, 'still answering');
  });

  test('the token parser: authenticate() only ever resolves a principal or throws an AuthError', async () => {
    const random = rng(0x5eed05);
    const auth = createAuthenticator({
      jwt: { secret: 'x'.repeat(32), issuer: 'https://issuer.test', audience: 'https://mcp.test/mcp' },
      apiKeys: { 'key-0123456789abcdef': { agentId: 'a', tenantId: 't', scopes: ['crm:read'] } },
    });
    const seeds = [
      'Bearer key-0123456789abcdef',
      'Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1In0.c2lnbmF0dXJl',
      'bearer   eyJ.eyJ.x',
      'Basic dXNlcjpwYXNz',
    ];
    let accepted = 0;
    for (let i = 0; i < RUNS * 4; i++) {
      const header = mutateText(seeds[i % seeds.length]!, random);
      try {
        const p = await auth.authenticate(header);
        accepted++;
        assert.equal(p.tenantId, 't', 'only the real key authenticates');
      } catch (err) {
        assert.equal((err as Error).name, 'AuthError', `authenticate(${JSON.stringify(header)}) threw ${(err as Error).name}`);
      }
    }
    assert.ok(accepted < RUNS * 4);
  });
});
