/**
 * Tenant-scoped reads: a tenant token sees its own calls, its own part of a
 * trace and its own alerts, whatever the query string says; the operator
 * token sees everything; limits on rows and time range hold.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { AlertsSnapshot } from '../packages/collector/src/alerts/evaluator.js';
import { parseReadTokens } from '../packages/collector/src/collector/index.js';
import type { TraceView } from '../packages/collector/src/audit/index.js';
import { callRecord, ndjson, postRecords, startTestCollector, type TestCollector } from './support/reliability-collector.js';

const OPERATOR = 'operator-token-0123456789';
const ACME = 'acme-reader-token-0123456789';
const GLOBEX = 'globex-reader-token-0123456789';
const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SHARED = 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';

const alerts: AlertsSnapshot = {
  evaluatedAt: new Date().toISOString(),
  rules: [],
  alerts: [
    { ruleUid: 'r1', title: 'x', state: 'firing', fingerprint: 'f1', labels: { tenant_id: 'acme' }, annotations: {}, value: 1, activeAt: new Date().toISOString() },
    { ruleUid: 'r1', title: 'x', state: 'firing', fingerprint: 'f2', labels: { tenant_id: 'globex' }, annotations: {}, value: 1, activeAt: new Date().toISOString() },
    { ruleUid: 'r2', title: 'fleet', state: 'firing', fingerprint: 'f3', labels: { service: 'crm' }, annotations: {}, value: 1, activeAt: new Date().toISOString() },
  ],
};

let c: TestCollector;
before(async () => {
  c = await startTestCollector({
    readToken: OPERATOR,
    readTokens: parseReadTokens(JSON.stringify({ [ACME]: { tenant: 'acme' }, [GLOBEX]: { tenant: 'globex' } })),
    alerts: { snapshot: () => alerts },
  });
  const records = [
    callRecord({ tenant_id: 'acme', trace_id: TRACE, span_id: '00f067aa0ba902b7' }),
    callRecord({ tenant_id: 'acme' }),
    callRecord({ tenant_id: 'globex' }),
    // A trace id shared across tenants (it comes from the client's traceparent).
    callRecord({ tenant_id: 'acme', trace_id: SHARED, span_id: '1111111111111111' }),
    callRecord({ tenant_id: 'globex', trace_id: SHARED, span_id: '2222222222222222' }),
  ];
  assert.equal((await postRecords(c.base, ndjson(records))).status, 200);
  const now = String(BigInt(Date.now()) * 1_000_000n);
  const span = (traceId: string, spanId: string, parent: string, tenant?: string) => ({
    traceId,
    spanId,
    parentSpanId: parent,
    name: tenant ? 'tools/call crm.search' : 'GET /contacts',
    kind: tenant ? 2 : 3,
    startTimeUnixNano: now,
    endTimeUnixNano: now,
    attributes: tenant ? [{ key: 'mcptrail.tenant_id', value: { stringValue: tenant } }] : [],
  });
  const spans = [
    span(TRACE, '00f067aa0ba902b7', '', 'acme'),
    span(TRACE, '00f067aa0ba902b8', '00f067aa0ba902b7'),
    span(SHARED, '1111111111111111', '', 'acme'),
    span(SHARED, '1111111111111112', '1111111111111111'),
    span(SHARED, '2222222222222222', '', 'globex'),
    span(SHARED, '2222222222222223', '2222222222222222'),
  ];
  const res = await fetch(`${c.base}/v1/traces`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans }] }] }),
  });
  assert.equal(res.status, 200);
});
after(() => c.close());

async function get<T>(path: string, token?: string): Promise<{ status: number; body: T }> {
  const res = await fetch(`${c.base}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { status: res.status, body: (await res.json()) as T };
}

type Calls = { calls: { tenant_id: string }[] };

describe('tenant-scoped reads', () => {
  test('no token or an unknown token: 401', async () => {
    assert.equal((await get('/api/calls')).status, 401);
    assert.equal((await get('/api/calls', 'not-a-token-at-all-0000')).status, 401);
  });

  test('a tenant token lists its own calls only; asking for another tenant is 403', async () => {
    const mine = await get<Calls>('/api/calls', ACME);
    assert.equal(mine.status, 200);
    assert.equal(mine.body.calls.length, 3);
    assert.ok(mine.body.calls.every((r) => r.tenant_id === 'acme'));
    assert.equal((await get<Calls>('/api/calls?tenant=acme', ACME)).body.calls.length, 3);
    const other = await get<{ error: string }>('/api/calls?tenant=globex', ACME);
    assert.equal(other.status, 403);
    assert.equal((await get('/api/calls?tenant=globex%27%20OR%201%3D1', ACME)).status, 403);
    const op = await get<Calls>('/api/calls', OPERATOR);
    assert.equal(op.body.calls.length, 5);
  });

  test('traces: a tenant sees its own calls and the spans under them, nothing of another tenant', async () => {
    const own = await get<TraceView>(`/api/traces/${TRACE}`, ACME);
    assert.deepEqual(own.body.spans.map((s) => s.spanId).sort(), ['00f067aa0ba902b7', '00f067aa0ba902b8']);
    const foreign = await get<TraceView>(`/api/traces/${TRACE}`, GLOBEX);
    assert.equal(foreign.status, 200);
    assert.deepEqual([foreign.body.spans.length, foreign.body.calls.length], [0, 0], 'not even whether the trace exists');
    const shared = await get<TraceView>(`/api/traces/${SHARED}`, ACME);
    assert.deepEqual(shared.body.spans.map((s) => s.spanId).sort(), ['1111111111111111', '1111111111111112']);
    assert.deepEqual(shared.body.calls.map((r) => r.tenant_id), ['acme']);
    const all = await get<TraceView>(`/api/traces/${SHARED}`, OPERATOR);
    assert.equal(all.body.spans.length, 4);
  });

  test('alerts: a tenant sees the alerts labelled with its tenant', async () => {
    const mine = await get<AlertsSnapshot>('/api/alerts', ACME);
    assert.deepEqual(mine.body.alerts.map((a) => a.fingerprint), ['f1']);
    const op = await get<AlertsSnapshot>('/api/alerts', OPERATOR);
    assert.equal(op.body.alerts.length, 3);
  });

  test('limits: at most 1000 rows and 31 days', async () => {
    assert.equal((await get('/api/calls?limit=1001', ACME)).status, 400);
    assert.equal((await get('/api/calls?since=32d', ACME)).status, 400);
    assert.equal((await get('/api/calls?since=31d&limit=1000', ACME)).status, 200);
  });

  test('the token map is validated', () => {
    assert.throws(() => parseReadTokens('{'), /not valid JSON/);
    assert.throws(() => parseReadTokens(JSON.stringify({ short: { tenant: 'a' } })), /at least 16/);
    assert.throws(() => parseReadTokens(JSON.stringify({ 'long-enough-token-123': { tenant: 'a', operator: true } })));
  });
});
