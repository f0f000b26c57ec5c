/**
 * The collector over real HTTP on 127.0.0.1 with the embedded store: records
 * ingest (validation, auth, limits, flush-on-ack), the audit API, health.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { emptyRecord, type CallRecord } from '../packages/mcptrail/src/record/schema.js';
import { openStore, migrate, TABLES, type Store } from '../packages/collector/src/store/index.js';
import { createCollector, type Collector } from '../packages/collector/src/collector/index.js';
import type { TraceView } from '../packages/collector/src/audit/index.js';
import { emitTrace, otlpExporter } from './support/otlp-fixtures.js';

const INGEST = 'ingest-secret';
const READ = 'read-secret';

let dir: string;
let store: Store;
let collector: Collector;
let base: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mcptrail-collector-'));
  store = await openStore({ dataDir: dir });
  await migrate(store);
  collector = await createCollector({ store, ingestToken: INGEST, readToken: READ, batch: { maxDelayMs: 20 } });
  await collector.app.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(collector.app.server.address() as AddressInfo).port}`;
});

after(async () => {
  await collector.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000).toISOString();

function record(overrides: Partial<CallRecord>): CallRecord {
  return { ...emptyRecord(), call_id: randomUUID(), ts: new Date().toISOString(), service: 'crm', ...overrides };
}

const ndjson = (records: unknown[]) => records.map((r) => JSON.stringify(r)).join('\n') + '\n';

function postRecords(body: string | Buffer, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${base}/v1/records`, {
    method: 'POST',
    headers: { authorization: `Bearer ${INGEST}`, 'content-type': 'application/x-ndjson', ...headers },
    body,
  });
}

async function api<T>(path: string, token: string | null = READ): Promise<{ status: number; body: T }> {
  const res = await fetch(`${base}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { status: res.status, body: (await res.json()) as T };
}

async function storedCount(): Promise<number> {
  const [row] = await store.query<{ n: number }>(`SELECT count() AS n FROM ${TABLES.toolCalls}`);
  return Number(row!.n);
}

describe('records ingest and /api/calls', () => {
  const records = [
    record({ ts: minutesAgo(1), tool: 'crm.search', tenant_id: 'acme', agent_id: 'agent-1', outcome: 'ok' }),
    record({ ts: minutesAgo(2), tool: 'crm.search', tenant_id: 'globex', agent_id: 'agent-2', outcome: 'tool_error' }),
    record({ ts: minutesAgo(3), tool: 'crm.refund', tenant_id: 'acme', agent_id: 'agent-2', outcome: 'denied', scope_required: 'crm:write' }),
    record({ ts: minutesAgo(4), tool: 'crm.refund', tenant_id: 'acme', agent_id: 'agent-1', outcome: 'rate_limited', rate_limited: true, rate_limit_budget: 'agent' }),
    record({ ts: minutesAgo(120), tool: 'crm.search', tenant_id: 'acme', agent_id: 'agent-3', outcome: 'ok' }),
  ];
  const ids = (calls: CallRecord[]) => calls.map((c) => c.call_id);
  const idsOf = (...i: number[]) => i.map((n) => records[n]!.call_id);

  before(async () => {
    const res = await postRecords(ndjson(records));
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { accepted: 5 });
  });

  test('200 means stored: the rows are readable as soon as the ingest answered', async () => {
    assert.equal(await storedCount(), 5);
  });

  test('default window is 1h, newest first, records come back whole', async () => {
    const { status, body } = await api<{ calls: CallRecord[] }>('/api/calls');
    assert.equal(status, 200);
    assert.deepEqual(ids(body.calls), idsOf(0, 1, 2, 3));
    assert.deepEqual(body.calls[2], records[2]);
  });

  test('filters: tool, tenant, agent, outcome, since, limit, combined', async () => {
    const q = async (qs: string) => ids((await api<{ calls: CallRecord[] }>(`/api/calls?${qs}`)).body.calls);
    assert.deepEqual(await q('tool=crm.refund'), idsOf(2, 3));
    assert.deepEqual(await q('tenant=globex'), idsOf(1));
    assert.deepEqual(await q('agent=agent-2'), idsOf(1, 2));
    assert.deepEqual(await q('outcome=denied'), idsOf(2));
    assert.deepEqual(await q('since=3h'), idsOf(0, 1, 2, 3, 4));
    assert.deepEqual(await q('since=150s'), idsOf(0, 1));
    assert.deepEqual(await q('since=7d&limit=2'), idsOf(0, 1));
    assert.deepEqual(await q('tenant=acme&tool=crm.search&since=1d'), idsOf(0, 4));
    assert.deepEqual(await q('tenant=nobody'), []);
  });

  test('gzip bodies are accepted', async () => {
    const extra = record({ tool: 'crm.gzip', tenant_id: 'acme' });
    const res = await postRecords(gzipSync(ndjson([extra])), { 'content-encoding': 'gzip' });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { accepted: 1 });
    assert.deepEqual(ids((await api<{ calls: CallRecord[] }>('/api/calls?tool=crm.gzip')).body.calls), [extra.call_id]);
  });
});

describe('records validation: one bad line rejects the request', () => {
  test('a record failing the schema → 400 naming the line and field; nothing stored', async () => {
    const before = await storedCount();
    const bad = { ...record({}), outcome: 'exploded' };
    const res = await postRecords(ndjson([record({}), record({}), bad, record({})]));
    assert.equal(res.status, 400);
    const body = (await res.json()) as { error: string };
    assert.match(body.error, /^line 3: outcome: /);
    assert.equal(await storedCount(), before);
  });

  test('invalid JSON, unknown fields, missing fields, blank lines', async () => {
    const before = await storedCount();
    const notJson = await postRecords(ndjson([record({})]) + '{"ts": oops}\n');
    assert.equal(notJson.status, 400);
    assert.deepEqual(await notJson.json(), { error: 'line 2: not valid JSON' });

    const unknown = await postRecords(ndjson([{ ...record({}), tennant: 'x' }]));
    assert.equal(unknown.status, 400);
    assert.match(((await unknown.json()) as { error: string }).error, /^line 1: unknown field\(s\) tennant/);

    const { agent_id: _dropped, ...missing } = record({});
    const missingRes = await postRecords('\n' + ndjson([missing]));
    assert.equal(missingRes.status, 400);
    assert.match(((await missingRes.json()) as { error: string }).error, /^line 2: agent_id: /);
    assert.equal(await storedCount(), before);

    // Blank lines and CRLF are tolerated; they do not count as records.
    const ok = await postRecords(`\r\n${JSON.stringify(record({ tool: 'crm.crlf' }))}\r\n\r\n`);
    assert.equal(ok.status, 200);
    assert.deepEqual(await ok.json(), { accepted: 1 });
    assert.equal(await storedCount(), before + 1);
  });
});

describe('auth', () => {
  test('ingest requires the ingest bearer token', async () => {
    const body = ndjson([record({})]);
    const absent = await fetch(`${base}/v1/records`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body });
    assert.equal(absent.status, 401);
    assert.deepEqual(await absent.json(), { error: 'missing bearer token' });
    assert.match(absent.headers.get('www-authenticate') ?? '', /^Bearer/);
    const wrong = await postRecords(body, { authorization: `Bearer ${READ}` });
    assert.equal(wrong.status, 401);
    assert.deepEqual(await wrong.json(), { error: 'invalid bearer token' });
    const traces = await fetch(`${base}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    assert.equal(traces.status, 401);
  });

  test('/api requires the read bearer token', async () => {
    assert.equal((await api('/api/calls', null)).status, 401);
    assert.equal((await api('/api/calls', INGEST)).status, 401);
    assert.equal((await api(`/api/traces/${'a'.repeat(32)}`, 'nope')).status, 401);
    assert.equal((await api('/api/calls', READ)).status, 200);
  });

  test('health endpoints are open', async () => {
    assert.deepEqual(await api('/healthz', null), { status: 200, body: { status: 'ok' } });
    assert.deepEqual(await api('/readyz', null), { status: 200, body: { status: 'ready' } });
  });
});

describe('limits', () => {
  test('a gzip bomb is refused with 413 and the server keeps serving', async () => {
    // 100 MiB of zeros compresses to ~100 KiB: under the wire limit, over the 64 MiB decompressed cap.
    const bomb = gzipSync(Buffer.alloc(100 * 1024 * 1024), { level: 9 });
    assert.ok(bomb.length < 1024 * 1024);
    const res = await postRecords(bomb, { 'content-encoding': 'gzip' });
    assert.equal(res.status, 413);
    assert.match(((await res.json()) as { error: string }).error, /exceeds/);
    const traces = await fetch(`${base}/v1/traces`, {
      method: 'POST',
      headers: { authorization: `Bearer ${INGEST}`, 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip' },
      body: bomb,
    });
    assert.equal(traces.status, 413);
    assert.equal((await api('/healthz', null)).status, 200);
    const ok = await postRecords(ndjson([record({ tool: 'crm.after-bomb' })]));
    assert.equal(ok.status, 200);
  });

  test('a body over the wire limit is refused with 413; bad gzip with 400; unknown encodings with 415', async () => {
    const huge = await postRecords(Buffer.alloc(17 * 1024 * 1024, 0x20));
    assert.equal(huge.status, 413);
    const badGzip = await postRecords(Buffer.from('definitely not gzip'), { 'content-encoding': 'gzip' });
    assert.equal(badGzip.status, 400);
    const zstd = await postRecords(Buffer.from('x'), { 'content-encoding': 'compress' });
    assert.equal(zstd.status, 415);
  });
});

describe('/api/traces/:traceId', () => {
  test('returns the spans (ordered, two-step lookup) and the audit records of a trace', async () => {
    const exporter = otlpExporter('json', `${base}/v1/traces`, { headers: { authorization: `Bearer ${INGEST}` } });
    const emitted = await emitTrace(exporter, 'crm.search');
    assert.deepEqual(emitted.exportResults, [0, 0]);
    const call = record({ trace_id: emitted.traceId, span_id: emitted.serverSpanId, tool: 'crm.search', tenant_id: 'acme' });
    assert.equal((await postRecords(ndjson([call]))).status, 200);

    const { status, body } = await api<TraceView>(`/api/traces/${emitted.traceId.toUpperCase()}`);
    assert.equal(status, 200);
    assert.equal(body.traceId, emitted.traceId);
    assert.deepEqual(
      body.spans.map((s) => [s.spanId, s.parentSpanId, s.kind, s.statusCode]),
      [
        [emitted.serverSpanId, '', 'Server', 'Error'],
        [emitted.clientSpanId, emitted.serverSpanId, 'Client', 'Error'],
      ],
    );
    const [server, client] = body.spans;
    assert.equal(server!.name, 'tools/call crm.search');
    assert.equal(server!.serviceName, 'otlp-fixture-svc');
    assert.equal(server!.statusMessage, 'upstream failed');
    assert.equal(server!.durationMs, 1.5);
    assert.equal(server!.startTime, new Date(Number(emitted.serverStartNs / 1_000_000n)).toISOString());
    assert.equal(server!.attributes['gen_ai.tool.name'], 'crm.search');
    assert.deepEqual(server!.events.map((e) => e.name), ['retry']);
    assert.equal(client!.attributes['http.response.status_code'], '503');
    assert.deepEqual(body.calls, [call]);
  });

  test('an unknown trace is empty, not an error', async () => {
    const { status, body } = await api<TraceView>(`/api/traces/${'0123456789abcdef'.repeat(2)}`);
    assert.equal(status, 200);
    assert.deepEqual(body, { traceId: '0123456789abcdef'.repeat(2), spans: [], calls: [] });
  });
});

describe('bad query parameters → 400 with a clear message', () => {
  const cases: [string, RegExp][] = [
    ['/api/calls?since=1y', /since/],
    ['/api/calls?since=abc', /since/],
    ['/api/calls?since=1000d', /since/],
    ['/api/calls?outcome=bogus', /outcome must be one of ok, tool_error/],
    ['/api/calls?limit=0', /limit must be an integer from 1 to 1000/],
    ['/api/calls?limit=5000', /limit must be an integer from 1 to 1000/],
    ['/api/calls?limit=abc', /limit/],
    ['/api/calls?tenat=acme', /unknown parameter\(s\): tenat/],
    ['/api/calls?tool=a&tool=b', /tool/],
    ['/api/traces/xyz', /traceId must be 32 hex characters/],
    [`/api/traces/${'g'.repeat(32)}`, /traceId/],
  ];
  for (const [path, message] of cases) {
    test(path, async () => {
      const { status, body } = await api<{ error: string }>(path);
      assert.equal(status, 400);
      assert.match(body.error, message);
    });
  }
});

describe('store failures', () => {
  test('an insert the store refuses → 503 with Retry-After; readiness reports the store', async () => {
    // A real http store pointed at a port nothing listens on.
    const deadStore = await openStore({ url: 'http://127.0.0.1:9' });
    const dead = await createCollector({ store: deadStore, ingestToken: '', readToken: '', batch: { maxDelayMs: 5 } });
    try {
      const res = await dead.app.inject({ method: 'POST', url: '/v1/records', headers: { 'content-type': 'application/x-ndjson' }, payload: ndjson([record({})]) });
      assert.equal(res.statusCode, 503);
      assert.equal(res.headers['retry-after'], '5');
      assert.deepEqual(res.json(), { error: 'store unavailable, retry later' });
      const ready = await dead.app.inject({ method: 'GET', url: '/readyz' });
      assert.equal(ready.statusCode, 503);
      const calls = await dead.app.inject({ method: 'GET', url: '/api/calls' });
      assert.equal(calls.statusCode, 503);
      assert.deepEqual(calls.json(), { error: 'store unavailable' });
    } finally {
      await dead.close();
      await deadStore.close();
    }
  });
});
