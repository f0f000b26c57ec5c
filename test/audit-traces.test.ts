/**
 * getTrace reads a trace's spans first and bounds the read of its audit
 * records by the spans' time range (± TRACE_CALLS_SLACK_MS), so tool_calls'
 * daily partitions are pruned. These tests pin what that bound may and may
 * not change: every record of a trace with spans near its calls is found,
 * a trace without spans is read unbounded, and the tenant rules hold.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { openStore, migrate, type Store } from '../packages/collector/src/store/index.js';
import { getTrace, callsForTrace } from '../packages/collector/src/audit/index.js';
import { TRACE_CALLS_SLACK_MS } from '../packages/collector/src/audit/traces.js';
import { callRecord, insertCalls, insertSpans, spansForCall } from './support/grafana-seed.js';

const DAY = 86_400_000;
const NOW = Date.now();
const hex = (bytes: number) => randomBytes(bytes).toString('hex');

let dir: string;
let store: Store;

// Trace A: two calls 20 minutes apart with spans, plus one call of the same trace whose spans were
// lost, 30 minutes before the first span (within the slack).
const A = hex(16);
const a1 = callRecord(NOW - 2 * DAY, { tenant: 'acme', tool: 'crm.search_contacts', traceId: A });
const a2 = callRecord(NOW - 2 * DAY + 20 * 60_000, { tenant: 'acme', tool: 'crm.get_contact', traceId: A, durationMs: 1500 });
const aLost = callRecord(NOW - 2 * DAY - 30 * 60_000, { tenant: 'acme', tool: 'crm.update_deal', traceId: A });
// Trace B: a call ten days ago, no spans at all (not exported, or expired before the record).
const B = hex(16);
const b1 = callRecord(NOW - 10 * DAY, { tenant: 'globex', tool: 'crm.search_contacts', traceId: B });
// Trace C: shared by two tenants (the client's traceparent), spans for both, a day apart from A.
const C = hex(16);
const cAcme = callRecord(NOW - DAY, { tenant: 'acme', tool: 'crm.search_contacts', traceId: C });
const cGlobex = callRecord(NOW - DAY + 1000, { tenant: 'globex', tool: 'crm.search_contacts', traceId: C });

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mcptrail-audit-traces-'));
  store = await openStore({ dataDir: dir, url: '' });
  await migrate(store);
  // Other traffic in every daily partition of the month, so there is something to prune.
  const noise = Array.from({ length: 30 }, (_, d) => callRecord(NOW - d * DAY - 5000, { tenant: 'initech', tool: 'crm.search_contacts' }));
  await insertCalls(store, [a1, a2, aLost, b1, cAcme, cGlobex, ...noise]);
  await insertSpans(store, [a1, a2, cAcme, cGlobex, ...noise.slice(0, 3)].flatMap(spansForCall));
});

after(async () => {
  await store?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('a trace with spans: every call, including one whose spans were lost within the slack', async () => {
  const view = await getTrace(store, A);
  assert.deepEqual(view.calls.map((c) => c.call_id), [aLost, a1, a2].map((c) => c.call_id));
  assert.equal(view.spans.length, 4);
  assert.ok(TRACE_CALLS_SLACK_MS >= 30 * 60_000);
});

test('a trace without spans is read without a time bound', async () => {
  const view = await getTrace(store, B);
  assert.deepEqual(view.spans, []);
  assert.deepEqual(view.calls.map((c) => c.call_id), [b1.call_id]);
  assert.deepEqual((await getTrace(store, B, { tenant: 'globex' })).calls.map((c) => c.call_id), [b1.call_id]);
  assert.deepEqual(await getTrace(store, B, { tenant: 'acme' }), { traceId: B, spans: [], calls: [] });
});

test('tenant-scoped: only the tenant\'s calls and spans; nothing for a tenant with no call in the trace', async () => {
  const acme = await getTrace(store, C, { tenant: 'acme' });
  assert.deepEqual(acme.calls.map((c) => c.call_id), [cAcme.call_id]);
  assert.deepEqual(new Set(acme.spans.map((s) => s.attributes['mcptrail.tenant_id'] ?? s.parentSpanId)), new Set(['acme', cAcme.span_id]));
  const all = await getTrace(store, C);
  assert.deepEqual(all.calls.map((c) => c.call_id), [cAcme.call_id, cGlobex.call_id]);
  assert.equal(all.spans.length, 4);
  assert.deepEqual(await getTrace(store, C, { tenant: 'initech' }), { traceId: C, spans: [], calls: [] });
  assert.deepEqual(await getTrace(store, A, { tenant: 'globex' }), { traceId: A, spans: [], calls: [] });
});

test('callsForTrace with a window returns only the calls inside it', async () => {
  const t = Date.parse(a1.ts);
  const inside = await callsForTrace(store, A, undefined, undefined, { fromMs: t - 1, toMs: t + 1 });
  assert.deepEqual(inside.map((c) => c.call_id), [a1.call_id]);
  assert.deepEqual(await callsForTrace(store, A, undefined, 'globex', { fromMs: t - DAY, toMs: t + DAY }), []);
  assert.equal((await callsForTrace(store, A)).length, 3);
});
