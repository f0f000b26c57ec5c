/**
 * The queries behind audit_explain_call and audit_tenant_health, through
 * their /api routes on the embedded engine: one call told from its record and
 * its CLIENT spans, a tenant's error rate, p95, top failing tools and firing
 * alerts; tenant-scoped by token.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { AlertsSnapshot } from '../packages/collector/src/alerts/evaluator.js';
import { parseReadTokens } from '../packages/collector/src/collector/index.js';
import type { CallExplanation } from '../packages/collector/src/audit/explain.js';
import type { TenantHealth } from '../packages/collector/src/audit/health.js';
import { callRecord, ndjson, postRecords, startTestCollector, type TestCollector } from './support/reliability-collector.js';

const OPERATOR = 'operator-token-0123456789';
const ACME = 'acme-reader-token-0123456789';
const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SERVER_SPAN = '00f067aa0ba902b7';

const now = new Date().toISOString();
const alerts: AlertsSnapshot = {
  evaluatedAt: now,
  rules: [],
  alerts: [
    { ruleUid: 'mcptrail-tenant-error-rate', title: 'MCP tenant error rate', state: 'firing', fingerprint: 'f1', labels: { tenant_id: 'acme' }, annotations: {}, value: 0.3, activeAt: now },
    { ruleUid: 'mcptrail-tenant-error-rate', title: 'MCP tenant error rate', state: 'pending', fingerprint: 'f2', labels: { tenant_id: 'acme' }, annotations: {}, value: 0.1, activeAt: now },
    { ruleUid: 'mcptrail-tenant-error-rate', title: 'MCP tenant error rate', state: 'firing', fingerprint: 'f3', labels: { tenant_id: 'globex' }, annotations: {}, value: 0.5, activeAt: now },
  ],
};

const refund = callRecord({
  tenant_id: 'acme',
  agent_id: 'acme-billing-bot',
  subject: 'svc-billing',
  auth_method: 'jwt',
  tool: 'crm.issue_refund',
  scope_required: 'refunds:write',
  scopes_granted: ['contacts:read', 'refunds:write'],
  intent: 'Refund the duplicate charge the customer reported.',
  trace_id: TRACE,
  span_id: SERVER_SPAN,
  outcome: 'ok',
  duration_ms: 240,
  upstream_calls: 2,
  upstream_retries: 1,
  budget_ms_total: 5000,
  budget_ms_used: 240,
  auth_refresh: 1,
  idempotency_key: 'k-1',
  idempotent_replay: false,
});
const globexCall = callRecord({ tenant_id: 'globex', tool: 'crm.search', outcome: 'system_error' });

let c: TestCollector;
before(async () => {
  c = await startTestCollector({ readToken: OPERATOR, readTokens: parseReadTokens(JSON.stringify({ [ACME]: { tenant: 'acme' } })), alerts: { snapshot: () => alerts } });
  const acme = [
    refund,
    ...Array.from({ length: 6 }, () => callRecord({ tenant_id: 'acme', tool: 'crm.search', duration_ms: 10 })),
    ...Array.from({ length: 3 }, () => callRecord({ tenant_id: 'acme', tool: 'crm.search', outcome: 'system_error', duration_ms: 50 })),
    ...Array.from({ length: 5 }, () => callRecord({ tenant_id: 'acme', tool: 'crm.update_deal', outcome: 'deadline_exceeded', duration_ms: 5000 })),
    callRecord({ tenant_id: 'acme', tool: 'crm.update_deal', outcome: 'upstream_unavailable' }),
  ];
  assert.equal((await postRecords(c.base, ndjson([...acme, globexCall]))).status, 200);
  const t0 = BigInt(Date.now()) * 1_000_000n;
  const span = (spanId: string, parent: string, kind: number, name: string, attrs: Record<string, string | number>, startMs: number, durMs: number, error = false) => ({
    traceId: TRACE,
    spanId,
    parentSpanId: parent,
    name,
    kind,
    startTimeUnixNano: String(t0 + BigInt(startMs) * 1_000_000n),
    endTimeUnixNano: String(t0 + BigInt(startMs + durMs) * 1_000_000n),
    attributes: Object.entries(attrs).map(([key, v]) => ({ key, value: typeof v === 'number' ? { intValue: String(v) } : { stringValue: v } })),
    status: error ? { code: 2 } : {},
  });
  const spans = [
    span(SERVER_SPAN, '', 2, 'tools/call crm.issue_refund', { 'mcptrail.tenant_id': 'acme' }, 0, 240),
    span('1111111111111111', SERVER_SPAN, 3, 'POST', { 'http.request.method': 'POST', 'url.full': 'https://crm.example/v1/refunds?token=secret', 'http.response.status_code': 503, 'error.type': '503', 'mcptrail.upstream.name': 'crm' }, 5, 80, true),
    span('2222222222222222', SERVER_SPAN, 3, 'POST', { 'http.request.method': 'POST', 'url.full': 'https://crm.example/v1/refunds', 'http.response.status_code': 201, 'http.request.resend_count': 1, 'mcptrail.upstream.name': 'crm' }, 120, 100),
  ];
  const res = await fetch(`${c.base}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans }] }] }) });
  assert.equal(res.status, 200);
  await c.collector.flush();
});
after(() => c.close());

async function get<T>(path: string, token: string): Promise<{ status: number; body: T }> {
  const res = await fetch(`${c.base}${path}`, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, body: (await res.json()) as T };
}

describe('GET /api/calls/:callId/explain', () => {
  test('tells who called, with which scopes, what the pipeline decided, what happened upstream and the outcome', async () => {
    const { status, body: e } = await get<CallExplanation>(`/api/calls/${refund.call_id}/explain`, ACME);
    assert.equal(status, 200);
    assert.deepEqual(e.who, { agent: 'acme-billing-bot', subject: 'svc-billing', authMethod: 'jwt', sessionId: '' });
    assert.deepEqual(e.scopes, { required: 'refunds:write', granted: ['contacts:read', 'refunds:write'], allowed: true });
    assert.equal(e.pipeline.upstreamRetries, 1);
    assert.deepEqual(e.pipeline.budgetMs, { total: 5000, used: 240 });
    assert.deepEqual(e.pipeline.authRefresh, { refreshed: 1, failed: 0, reason: '' });
    assert.deepEqual(e.pipeline.idempotency, { key: true, replay: false });
    assert.deepEqual(
      e.upstream.map((u) => [u.method, u.target, u.status, u.resend, u.error]),
      [
        ['POST', 'crm.example/v1/refunds', 503, 0, '503'],
        ['POST', 'crm.example/v1/refunds', 201, 1, undefined],
      ],
    );
    assert.equal(e.outcome.outcome, 'ok');
    // who, intent, arguments, scopes, limits, budget, upstream (+ one line per request), idempotency, outcome.
    assert.ok(e.lines.length >= 8 && e.lines.length <= 11, e.lines.join('\n'));
    assert.equal(e.intent, 'Refund the duplicate charge the customer reported.');
    assert.equal(e.lines[1], 'intent (stated by the agent): Refund the duplicate charge the customer reported.');
    assert.match(e.lines[0]!, /agent acme-billing-bot .* tenant acme/);
    assert.ok(!JSON.stringify(e).includes('token=secret'), 'the query string of an upstream URL is not repeated');
  });

  test("another tenant's call is not found for a tenant token; the operator sees it; a bad id is a 400", async () => {
    assert.equal((await get(`/api/calls/${globexCall.call_id}/explain`, ACME)).status, 404);
    const op = await get<CallExplanation>(`/api/calls/${globexCall.call_id}/explain`, OPERATOR);
    assert.equal(op.status, 200);
    assert.equal(op.body.tenant, 'globex');
    assert.equal((await get(`/api/calls/not-a-uuid/explain`, OPERATOR)).status, 400);
    assert.equal((await get(`/api/calls/${refund.call_id}/explain?x=1`, OPERATOR)).status, 400);
  });
});

describe('GET /api/tenants/:tenant/health', () => {
  test('error rate, failure rate, p95, top failing tools and the firing alerts of the tenant', async () => {
    const { status, body: h } = await get<TenantHealth>('/api/tenants/acme/health?window=1h', ACME);
    assert.equal(status, 200);
    assert.equal(h.calls, 16);
    assert.equal(h.errorRate, 4 / 16, 'system errors and open circuits, as the tenant error-rate alert counts');
    assert.equal(h.failureRate, 9 / 16);
    assert.equal(h.outcomes.deadline_exceeded, 5);
    assert.deepEqual(h.topFailingTools.map((t) => [t.tool, t.failures, t.calls]), [['crm.update_deal', 6, 6], ['crm.search', 3, 9]]);
    assert.ok(h.p95Ms !== null && h.p95Ms >= 10 && h.p95Ms <= 240, `p95 ${h.p95Ms}`);
    assert.deepEqual(h.firingAlerts.map((a) => a.fingerprint), ['f1'], "only this tenant's firing alerts");
  });

  test('a tenant token cannot read another tenant; bad windows are a 400; no calls is no rate', async () => {
    assert.equal((await get('/api/tenants/globex/health', ACME)).status, 403);
    assert.equal((await get('/api/tenants/globex/health', OPERATOR)).status, 200);
    assert.equal((await get('/api/tenants/acme/health?window=90d', OPERATOR)).status, 400);
    const empty = await get<TenantHealth>('/api/tenants/nobody/health', OPERATOR);
    assert.equal(empty.body.calls, 0);
    assert.equal(empty.body.errorRate, null);
    assert.equal(empty.body.p95Ms, null);
  });
});
