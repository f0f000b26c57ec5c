/**
 * The per-call shortcuts of the instrumented hot path must give exactly what
 * the plain code gave: the record (field order included), its timestamp, the
 * argument summary's JSON, the shipper's NDJSON body, the call context's
 * counters, the deadline race, and the HTTP app with a synchronous or an
 * asynchronous server factory.
 */
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { trace } from '@opentelemetry/api';
import { createAuthenticator } from '../packages/mcptrail/src/auth/index.js';
import { freshCounters, type CallContext } from '../packages/mcptrail/src/context/index.js';
import { newCallContext } from '../packages/mcptrail/src/instrument/call-context.js';
import { CallDeadlineError, withinBudget } from '../packages/mcptrail/src/instrument/failure.js';
import { createMcpHttpApp } from '../packages/mcptrail/src/instrument/fastify.js';
import { buildRecord, isoTimestamp, type RecordFacts } from '../packages/mcptrail/src/instrument/record-builder.js';
import { emptyRecord, FIELD_NAMES, summarizeArgs, type CallRecord } from '../packages/mcptrail/src/record/index.js';
import { ndjsonParts } from '../packages/mcptrail/src/record/transport.js';
import { buildServer, connectClient, memorySink } from './support/mcp-harness.js';

/** buildRecord as it was written before (emptyRecord, then field by field). */
function referenceRecord(ctx: CallContext, facts: RecordFacts): CallRecord {
  const record = emptyRecord();
  record.ts = new Date(ctx.startedAt).toISOString();
  record.call_id = ctx.callId;
  record.trace_id = ctx.traceId;
  record.span_id = ctx.spanId;
  record.session_id = ctx.sessionId.slice(0, 256);
  record.request_id = ctx.requestId.slice(0, 256);
  record.service = facts.service.slice(0, 128);
  record.tool = ctx.tool.slice(0, 128);
  record.tool_version = facts.toolVersion.slice(0, 32);
  record.tool_deprecated = facts.toolDeprecated;
  record.tenant_id = ctx.tenantId.slice(0, 128);
  record.agent_id = ctx.agentId.slice(0, 256);
  record.subject = ctx.subject.slice(0, 256);
  record.auth_method = ctx.authMethod;
  record.scope_required = facts.scopeRequired.slice(0, 128);
  record.scopes_granted = ctx.scopes.slice(0, 64).map((s) => s.slice(0, 128));
  record.outcome = facts.outcome;
  record.error_class = facts.errorClass.slice(0, 128);
  record.error_code = facts.errorCode.slice(0, 64);
  record.duration_ms = Math.max(0, Math.round(facts.durationMs * 1000) / 1000);
  record.upstream_calls = ctx.upstreamCalls;
  record.upstream_retries = ctx.upstreamRetries;
  record.budget_ms_total = ctx.budgetMs;
  record.budget_ms_used = Math.min(ctx.budgetMs, Math.round(facts.durationMs));
  record.auth_refresh = ctx.authRefresh;
  record.auth_refresh_failed = ctx.authRefreshFailed;
  record.auth_refresh_reason = ctx.authRefreshReason.slice(0, 64);
  record.rate_limited = facts.rateLimitBudget !== '';
  record.rate_limit_budget = facts.rateLimitBudget;
  record.idempotency_key = facts.idempotencyKey.slice(0, 256);
  record.idempotent_replay = facts.idempotentReplay;
  record.args_summary = facts.argsSummary;
  // Migration 7: a call of one round is its own logical call.
  record.logical_call_id = ctx.callId;
  return record;
}

const noSpan = trace.wrapSpanContext({ traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: 1 });

function context(overrides: Partial<CallContext> = {}): CallContext {
  return {
    ...newCallContext({
      principal: { tenantId: 'acme', agentId: 'bot-1', subject: 'user-9', scopes: ['crm:read', 'x'.repeat(300)], method: 'jwt' },
      span: noSpan,
      sessionId: 's'.repeat(300),
      requestId: '42',
      callId: randomUUID(),
      tool: 'crm.search',
      startedAt: Date.now(),
      budgetMs: 5000,
    }),
    ...overrides,
  };
}

const facts = (overrides: Partial<RecordFacts> = {}): RecordFacts => ({
  service: 'svc',
  toolVersion: '1',
  toolDeprecated: false,
  scopeRequired: 'crm:read',
  outcome: 'ok',
  errorClass: '',
  errorCode: '',
  durationMs: 12.34567,
  argsSummary: '{"q":{"type":"string","len":3,"value":"ada"}}',
  rateLimitBudget: '',
  idempotencyKey: '',
  idempotentReplay: false,
  ...overrides,
});

describe('buildRecord', () => {
  test('fields in the schema order, as emptyRecord has them', () => {
    const record = buildRecord(context(), facts());
    assert.deepEqual(Object.keys(record), Object.keys(emptyRecord()));
    assert.deepEqual(Object.keys(record), FIELD_NAMES);
  });

  test('the same record, and the same JSON, as the field-by-field builder', () => {
    const cases: [Partial<CallContext>, Partial<RecordFacts>][] = [
      [{}, {}],
      [{ startedAt: 0, upstreamCalls: 3, authRefreshReason: 'r'.repeat(100) }, { outcome: 'rate_limited', rateLimitBudget: 'tenant', durationMs: 9e9 }],
      [{ startedAt: Date.now() + 999, scopes: [] }, { errorClass: 'E'.repeat(200), errorCode: 'c'.repeat(100), durationMs: -1, idempotencyKey: 'k'.repeat(300), idempotentReplay: true }],
      [{ tool: '\u2028"quoted"\ud800', subject: '' }, { service: 'ü'.repeat(200), toolDeprecated: true }],
    ];
    for (const [c, f] of cases) {
      const ctx = context(c);
      const fx = facts(f);
      assert.deepEqual(buildRecord(ctx, fx), referenceRecord(ctx, fx));
      assert.equal(JSON.stringify(buildRecord(ctx, fx)), JSON.stringify(referenceRecord(ctx, fx)));
    }
  });

  test('isoTimestamp equals Date#toISOString, within a second, across seconds and at the edges', () => {
    const start = Date.now() - (Date.now() % 1000) - 3;
    for (let ms = start; ms < start + 2500; ms++) assert.equal(isoTimestamp(ms), new Date(ms).toISOString());
    const either = (f: () => string) => {
      try {
        return f();
      } catch (err) {
        return (err as Error).name;
      }
    };
    for (const ms of [0, 1, 999, 1000, 8.64e15, 253402300799999, 253402300800000, 1.5, -1, -1001, Number.NaN]) {
      for (const x of [ms, ms + 1]) assert.equal(either(() => isoTimestamp(x)), either(() => new Date(x).toISOString()), String(x));
    }
    for (let i = 0; i < 2000; i++) {
      const ms = Math.floor(Math.random() * 4e12);
      assert.equal(isoTimestamp(ms), new Date(ms).toISOString());
    }
  });
});

test('newCallContext starts with freshCounters()', () => {
  const ctx = context() as unknown as Record<string, unknown>;
  for (const [k, v] of Object.entries(freshCounters())) assert.equal(ctx[k], v, k);
});

describe('summarizeArgs JSON', () => {
  /** The summary as the reference implementation serialised it: one JSON.stringify per field summary. */
  function reference(args: Record<string, unknown>, allow: string[]): string {
    const out = JSON.parse(summarizeArgs(args, { allow })) as Record<string, Record<string, unknown>>;
    return `{${Object.entries(out)
      .map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`)
      .join(',')}}`;
  }

  test('byte for byte what JSON.stringify of each field summary gives, in the same key order', () => {
    const args = {
      s: 'hello "world" \u2028 \ud800',
      n: 42,
      nan: Number.NaN,
      negZero: -0,
      big: 1e21,
      t: true,
      nul: null,
      arr: [1, 'two', { three: 3 }],
      obj: { b: 1, a: [2] },
      password: 'hunter2',
      note: 'Bearer abcdefghijklmnop',
      emoji: '😀'.repeat(40),
    };
    for (const allow of [[], Object.keys(args)]) {
      const got = summarizeArgs(args, { allow });
      assert.equal(got, reference(args, allow));
      for (const [, field] of Object.entries(JSON.parse(got) as Record<string, Record<string, unknown>>)) {
        const keys = Object.keys(field);
        assert.deepEqual(keys.slice(0, 2), ['type', 'len']);
        assert.ok(['value', 'sha256_8'].includes(keys[2]!));
        if (keys[3]) assert.deepEqual(keys.slice(2), ['sha256_8', 'secret']);
      }
    }
    // The short hash is still sha256 of the canonical JSON.
    const hashed = JSON.parse(summarizeArgs({ id: 'C-000123' })) as { id: { sha256_8: string } };
    assert.equal(hashed.id.sha256_8, createHash('sha256').update('"C-000123"').digest('hex').slice(0, 8));
  });

  test('an allow-listed bigint throws as JSON.stringify did', () => {
    assert.throws(() => summarizeArgs({ n: 10n }, { allow: ['n'] }), TypeError);
  });
});

test('ndjsonParts: the same bytes as one joined body', () => {
  const lines = Array.from({ length: 3000 }, (_, i) => JSON.stringify({ i, pad: 'x'.repeat(i % 900), u: 'é😀\u2028' }));
  lines.push('y'.repeat(200_000)); // a line longer than a part
  for (const n of [0, 1, 2, 37, 500, 3000, 3001]) {
    const batch = lines.slice(0, n);
    const { parts, bytes } = ndjsonParts(batch);
    const expected = Buffer.from(`${batch.join('\n')}\n`);
    assert.ok(Buffer.from(parts.join('')).equals(expected), `n=${n}`);
    assert.equal(bytes, expected.length);
    for (const part of parts.slice(0, -1)) assert.ok(part.endsWith('\n'));
  }
});

describe('withinBudget', () => {
  test('the value, the rejection, or CallDeadlineError when the budget runs out first', async () => {
    assert.equal(await withinBudget(Promise.resolve(7), 1000), 7);
    assert.equal(await withinBudget(8, 1000), 8);
    const boom = new Error('boom');
    await assert.rejects(withinBudget(Promise.reject(boom), 1000), (err) => err === boom);
    await assert.rejects(withinBudget(new Promise((r) => setTimeout(r, 200)), 10), CallDeadlineError);
    await assert.rejects(withinBudget(new Promise(() => undefined), 0), CallDeadlineError);
  });
});

describe('createMcpHttpApp: synchronous and asynchronous server factories', () => {
  const sink = memorySink();
  const authenticator = createAuthenticator({ apiKeys: { 'hot-path-key-0123456789': { agentId: 'a1', tenantId: 't1', scopes: ['crm:read', 'crm:write'] } } });
  const apps: Awaited<ReturnType<typeof createMcpHttpApp>>[] = [];
  const urls: string[] = [];
  before(async () => {
    for (const serverFactory of [() => buildServer('v1', sink), async () => buildServer('v1', sink)]) {
      const app = await createMcpHttpApp({ serverFactory, authenticator, sink, service: 'hot', sdk: 'v1' });
      await app.listen({ host: '127.0.0.1', port: 0 });
      apps.push(app);
      urls.push(`http://127.0.0.1:${(app.server.address() as AddressInfo).port}/mcp`);
    }
  });
  after(async () => {
    for (const app of apps) await app.close();
  });

  test('both answer and record each call once', async () => {
    for (const url of urls) {
      const client = await connectClient('v1', url, { authorization: 'Bearer hot-path-key-0123456789' });
      const before = sink.records.length;
      const res = await client.callTool('echo', { text: 'hi' });
      assert.notEqual(res.isError, true, JSON.stringify(res));
      assert.match(res.content?.[0]?.text ?? '', /hi/);
      const fresh = sink.records.slice(before).filter((r) => r.tool === 'echo');
      assert.equal(fresh.length, 1);
      assert.equal(fresh[0]!.tenant_id, 't1');
      await client.close();
    }
  });
});
