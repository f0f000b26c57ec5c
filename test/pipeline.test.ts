/**
 * The production call pipeline end to end, with real parts: official MCP SDK
 * clients over real HTTP, two server instances sharing a real Redis, a real
 * local upstream with an OAuth token endpoint.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, beforeEach, describe, test } from 'node:test';
import { SpanKind } from '@opentelemetry/api';
import { createAuthenticator } from '../packages/mcptrail/src/auth/index.js';
import { limitsEventLogger, unwrapUntrusted } from '../packages/mcptrail/src/instrument/index.js';
import {
  MemoryConcurrencyCap,
  RateLimits,
  redisCredentialStore,
  redisIdempotencyStore,
  type CredentialStore,
} from '../packages/mcptrail/src/runtime/index.js';
import type { CallRecord } from '../packages/mcptrail/src/record/index.js';
import { AUDIENCE, ISSUER, mintHs256, standardClaims } from './support/auth-keys.js';
import { connectClient, installTracing, type McpTestClient, type SdkLine } from './support/mcp-harness.js';
import { captureLogs, oauthRefresh, startInstance, type Instance, type InstanceDeps } from './support/pipeline-server.js';
import { startPipelineUpstream, type PipelineUpstream } from './support/pipeline-upstream.js';
import { deadRedis, redisFixture, type RedisFixture } from './support/runtime-redis.js';

const SECRET = 'pipeline-test-secret-0123456789abcdef';
const CANARY = `canary-${randomBytes(12).toString('hex')}`;
const exporter = installTracing();
const authenticator = createAuthenticator({ jwt: { secret: SECRET, issuer: ISSUER, audience: AUDIENCE } });
const ALL_SCOPES = 'contacts:read writes:write';

type Result = { content?: { type: string; text?: string }[]; isError?: boolean; structuredContent?: Record<string, any> };

let fx: RedisFixture;
let upstream: PipelineUpstream;
const instances: Instance[] = [];
const clients: McpTestClient[] = [];
const cleanups: Array<() => Promise<unknown>> = [];

const token = (tenant: string, agent: string, scope = ALL_SCOPES, extra: Record<string, unknown> = {}) =>
  mintHs256(SECRET, standardClaims({ tenant_id: tenant, agent_id: agent, scope, ...extra }));

async function client(line: SdkLine, instance: Instance, bearer: string): Promise<McpTestClient> {
  const c = await connectClient(line, instance.url, { authorization: `Bearer ${bearer}` });
  clients.push(c);
  return c;
}

const call = (c: McpTestClient, tool: string, args: Record<string, unknown> = {}, meta?: Record<string, string>) =>
  c.callTool(tool, args, meta) as Promise<Result>;

/** A shared, encrypted credential store over its own Redis connection (one per instance). */
async function credentialStore(prefix: string, key: Buffer): Promise<CredentialStore> {
  return redisCredentialStore(await fx.client(), { key, keyPrefix: prefix, refresh: oauthRefresh({ tokenUrl: `${upstream.url}/oauth/token` }) });
}

/** Seeds the tenant with an expired access token and a valid refresh token. */
async function seed(store: CredentialStore, tenant: string): Promise<void> {
  await store.put(tenant, { accessToken: 'expired', refreshToken: upstream.grant(tenant), expiresAt: Date.now() - 1_000 });
}

async function instance(deps: Partial<InstanceDeps> & Pick<InstanceDeps, 'credentials'>): Promise<Instance> {
  const i = await startInstance({ line: 'v1', authenticator, upstreamUrl: upstream.url, ...deps });
  instances.push(i);
  return i;
}

function rawToolsCall(url: string, bearer: string, name: string, args: Record<string, unknown> = {}) {
  return fetch(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-06-18' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 42, method: 'tools/call', params: { name, arguments: args } }),
  });
}

const textOf = (r: Result) => unwrapUntrusted(r.content?.[0]?.text ?? '');
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

before(async () => {
  fx = redisFixture('pipeline');
  upstream = await startPipelineUpstream({ canary: CANARY });
});
after(async () => {
  for (const c of clients) await c.close().catch(() => undefined);
  for (const i of instances) await i.close();
  for (const f of cleanups) await f();
  await upstream.close();
  await fx.close();
});
beforeEach(() => exporter.reset());

describe('rate limits', () => {
  test('two instances sharing Redis enforce one per-agent budget at the edge: 429 + Retry-After, recorded', async () => {
    const key = randomBytes(32);
    const edge = async () => new RateLimits({ agent: { points: 4, perSeconds: 60 } }, { store: { kind: 'redis', redis: await fx.client(), keyPrefix: `${fx.prefix}edge:` } });
    const a = await instance({ credentials: await credentialStore(`${fx.prefix}rl1:`, key), edgeLimits: await edge() });
    const b = await instance({ credentials: await credentialStore(`${fx.prefix}rl1:`, key), edgeLimits: await edge() });
    await seed(await credentialStore(`${fx.prefix}rl1:`, key), 'tenant-rl');
    const bearer = await token('tenant-rl', 'agent-rl');
    const [ca, cb] = [await client('v1', a, bearer), await client('v1', b, bearer)];

    for (const c of [ca, cb, ca, cb]) assert.notEqual((await call(c, 'old.search')).isError, true);
    // The 5th call, on either instance, exceeds the one shared budget.
    const res = await rawToolsCall(b.url, bearer, 'old.search');
    assert.equal(res.status, 429);
    const retryAfter = Number(res.headers.get('retry-after'));
    assert.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${retryAfter}`);
    const body = (await res.json()) as { id: number; error: { data: Record<string, unknown> } };
    assert.equal(body.id, 42);
    assert.deepEqual(body.error.data, { rate_limited: true, retry_after_seconds: retryAfter, budget: 'agent', retryable: true });
    await assert.rejects(call(ca, 'old.search'), (err: { code?: number }) => err.code === 429);

    const all = [...a.sink.records, ...b.sink.records];
    assert.equal(all.length, 6, 'one record per call, refused ones included');
    const limited = all.filter((r) => r.outcome === 'rate_limited');
    assert.equal(limited.length, 2);
    for (const r of limited) {
      assert.equal(r.rate_limited, true);
      assert.equal(r.rate_limit_budget, 'agent');
      assert.equal(r.tenant_id, 'tenant-rl');
      assert.equal(r.agent_id, 'agent-rl');
      assert.equal(r.upstream_calls, 0);
    }
  });

  test('per-tool budgets in the pipeline answer a structured result; a deny policy answers permanently', async () => {
    const key = randomBytes(32);
    const limits = async () =>
      new RateLimits(
        { tool: { 'old.search': { points: 2, perSeconds: 60 } } },
        { store: { kind: 'redis', redis: await fx.client(), keyPrefix: `${fx.prefix}tool:` }, deny: ({ tenantId }) => (tenantId === 'tenant-suspended' ? 'tenant_suspended' : undefined) },
      );
    const a = await instance({ line: 'v2', credentials: await credentialStore(`${fx.prefix}rl2:`, key), limits: await limits() });
    const b = await instance({ line: 'v2', credentials: await credentialStore(`${fx.prefix}rl2:`, key), limits: await limits() });
    const ca = await client('v2', a, await token('tenant-t', 'agent-t'));
    const cb = await client('v2', b, await token('tenant-t', 'agent-t2'));
    assert.notEqual((await call(ca, 'old.search')).isError, true);
    assert.notEqual((await call(cb, 'old.search')).isError, true);
    const limited = await call(ca, 'old.search');
    assert.equal(limited.isError, true);
    assert.equal(limited.structuredContent?.rate_limited, true);
    assert.equal(limited.structuredContent?.budget, 'tool');
    assert.ok(limited.structuredContent?.retry_after_seconds >= 1);
    assert.match(limited.content![0]!.text!, /Retry after \d+ second/);
    const rec = a.sink.records.at(-1)!;
    assert.equal(rec.outcome, 'rate_limited');
    assert.equal(rec.rate_limit_budget, 'tool');

    const suspended = await client('v2', a, await token('tenant-suspended', 'agent-s'));
    const denied = await call(suspended, 'old.search');
    assert.equal(denied.isError, true);
    assert.deepEqual(denied.structuredContent, { denied: true, permanent: true, retryable: false, reason: 'tenant_suspended' });
    const deniedRec = a.sink.records.at(-1)!;
    assert.equal(deniedRec.outcome, 'denied');
    assert.equal(deniedRec.rate_limited, false);
  });

  test('the per-tenant concurrency cap refuses the call over the cap', async () => {
    const key = randomBytes(32);
    const a = await instance({ credentials: await credentialStore(`${fx.prefix}cc:`, key), concurrency: new MemoryConcurrencyCap(1) });
    const c = await client('v1', a, await token('tenant-cc', 'agent-cc'));
    const [first, second] = await Promise.all([call(c, 'slow.op'), call(c, 'slow.op')]);
    const limited = [first, second].filter((r) => r.isError);
    assert.equal(limited.length, 1);
    assert.equal(limited[0]!.structuredContent?.budget, 'concurrency');
    assert.deepEqual(a.sink.records.map((r) => r.outcome).sort(), ['ok', 'rate_limited']);
    assert.equal((await call(c, 'slow.op')).isError, undefined, 'the slot is released after the call');
  });

  test('Redis unreachable: the insurance limiter decides, a log line names the class only, the span is marked', async () => {
    const key = randomBytes(32);
    const logs = captureLogs();
    const dead = deadRedis();
    cleanups.push(async () => dead.disconnect());
    const limits = new RateLimits({ tool: { 'old.search': { points: 1, perSeconds: 60 } } }, { store: { kind: 'redis', redis: dead }, onEvent: limitsEventLogger(logs.logger) });
    const a = await instance({ credentials: await credentialStore(`${fx.prefix}dead:`, key), limits });
    const c = await client('v1', a, await token('tenant-dead', 'agent-dead'));
    assert.notEqual((await call(c, 'old.search')).isError, true, 'allowed by the insurance limiter');
    const second = await call(c, 'old.search');
    assert.equal(second.structuredContent?.rate_limited, true, 'the insurance limiter still limits');
    assert.ok(limits.degraded);
    assert.ok(limits.fallbackDecisions >= 2);
    const line = logs.text().split('\n').find((l) => l.includes('limits_store_degraded'));
    assert.ok(line, 'one degraded line');
    assert.equal(logs.text().split('\n').filter((l) => l.includes('limits_store_degraded')).length, 1, 'once per outage, not per call');
    const parsed = JSON.parse(line!) as Record<string, unknown>;
    assert.equal(parsed.store, 'redis');
    assert.equal(typeof parsed.error_class, 'string');
    assert.ok(!line!.includes('redis://') && !line!.includes('127.0.0.1'), 'no URL in the line');
    const span = exporter.getFinishedSpans().find((s) => s.name === 'tools/call old.search')!;
    assert.equal(span.attributes['mcptrail.limits.degraded'], true);
  });
});

describe('idempotency', () => {
  test('50 concurrent identical writes over two instances: one upstream execution, 49 replays', async () => {
    const key = randomBytes(32);
    const store = async () => redisIdempotencyStore(await fx.client(), { keyPrefix: fx.prefix, pendingTtlMs: 60_000 });
    const a = await instance({ credentials: await credentialStore(`${fx.prefix}idem:`, key), idempotency: await store() });
    const b = await instance({ line: 'v1', credentials: await credentialStore(`${fx.prefix}idem:`, key), idempotency: await store() });
    await seed(await credentialStore(`${fx.prefix}idem:`, key), 'tenant-i');
    const bearer = await token('tenant-i', 'agent-i');
    const [ca, cb] = [await client('v1', a, bearer), await client('v1', b, bearer)];
    const title = `deal-${randomBytes(4).toString('hex')}`;
    const executionsBefore = [...upstream.writeExecutions.values()].reduce((s, n) => s + n, 0);

    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => call(i % 2 ? cb : ca, 'writes.create', { title })));
    const executions = [...upstream.writeExecutions.values()].reduce((s, n) => s + n, 0) - executionsBefore;
    assert.equal(executions, 1, 'exactly one upstream execution');
    const ids = new Set(results.map((r) => JSON.parse(textOf(r)).write.id));
    assert.equal(ids.size, 1, 'every caller got the first call’s result');
    for (const r of results) assert.equal(r.isError, undefined);

    const records = [...a.sink.records, ...b.sink.records].filter((r) => r.tool === 'writes.create');
    assert.equal(records.length, 50);
    assert.equal(records.filter((r) => r.idempotent_replay).length, 49);
    const first = records.find((r) => !r.idempotent_replay)!;
    assert.equal(first.upstream_calls, 1);
    assert.match(first.idempotency_key, /^[0-9a-f]{64}$/);
    assert.ok(records.every((r) => r.idempotency_key === first.idempotency_key && r.outcome === 'ok'));
  });

  test('a caller key in _meta is the upstream Idempotency-Key; the record holds its hash', async () => {
    const key = randomBytes(32);
    const a = await instance({ credentials: await credentialStore(`${fx.prefix}idem2:`, key), idempotency: redisIdempotencyStore(await fx.client(), { keyPrefix: fx.prefix }) });
    await seed(await credentialStore(`${fx.prefix}idem2:`, key), 'tenant-k');
    const c = await client('v1', a, await token('tenant-k', 'agent-k'));
    const callerKey = `order-${randomBytes(6).toString('hex')}`;
    const one = await call(c, 'writes.create', { title: 'x' }, { 'io.mcptrail/idempotency-key': callerKey });
    const two = await call(c, 'writes.create', { title: 'x' }, { 'io.mcptrail/idempotency-key': callerKey });
    assert.equal(JSON.parse(textOf(one)).write.id, JSON.parse(textOf(two)).write.id);
    assert.equal(upstream.writeExecutions.get(callerKey), 1);
    assert.ok(upstream.seen.some((s) => s.headers['idempotency-key'] === callerKey));
    const [r1, r2] = a.sink.records;
    assert.equal(r1!.idempotency_key, sha256(callerKey));
    assert.equal(r1!.idempotent_replay, false);
    assert.equal(r2!.idempotent_replay, true);
    assert.equal(r2!.upstream_calls, 0);
    // The same key for different arguments is refused, not replayed.
    const reused = await call(c, 'writes.create', { title: 'other' }, { 'io.mcptrail/idempotency-key': callerKey });
    assert.equal(reused.isError, true);
    assert.equal(reused.structuredContent?.idempotency_key_reused, true);
  });
});

describe('credentials', () => {
  test('100 parallel calls over two instances with an expired upstream token: exactly one refresh', async () => {
    const key = randomBytes(32);
    const a = await instance({ credentials: await credentialStore(`${fx.prefix}cred:`, key) });
    const b = await instance({ credentials: await credentialStore(`${fx.prefix}cred:`, key) });
    await seed(await credentialStore(`${fx.prefix}cred:`, key), 'tenant-r');
    const agentToken = await token('tenant-r', 'agent-r');
    const ca = await client('v1', a, agentToken);
    const cb = await client('v1', b, agentToken);
    const results = await Promise.all(Array.from({ length: 100 }, (_, i) => call(i % 2 ? ca : cb, 'contacts.search')));
    assert.ok(results.every((r) => r.isError !== true));
    assert.equal(upstream.tokenHits.get('tenant-r'), 1, 'the token endpoint was hit once');
    const records = [...a.sink.records, ...b.sink.records];
    assert.equal(records.length, 100);
    assert.equal(records.filter((r) => r.auth_refresh === 1).length, 1, 'one record, on one instance, carries the refresh');
    assert.equal(records.filter((r) => r.auth_refresh > 1).length, 0);
    // The upstream saw the tenant's upstream token, never the agent's.
    const mine = upstream.seen.filter((s) => s.tenantId === 'tenant-r');
    assert.equal(mine.length, 100);
    for (const s of mine) {
      assert.match(String(s.headers.authorization), /^Bearer at_/);
      assert.ok(!String(s.headers.authorization).includes(agentToken));
    }
    assert.ok(!upstream.seen.some((s) => JSON.stringify(s.headers).includes(agentToken)), 'the agent token never crossed to the upstream');
  });

  test('a 401 from upstream invalidates the token and resends once with a refreshed one', async () => {
    const key = randomBytes(32);
    const a = await instance({ credentials: await credentialStore(`${fx.prefix}c401:`, key) });
    await seed(await credentialStore(`${fx.prefix}c401:`, key), 'tenant-401');
    const c = await client('v1', a, await token('tenant-401', 'agent-401'));
    assert.notEqual((await call(c, 'contacts.search')).isError, true);
    upstream.expireAccessTokens('tenant-401');
    const res = await call(c, 'contacts.search');
    assert.notEqual(res.isError, true);
    const r = a.sink.records.at(-1)!;
    assert.equal(r.outcome, 'ok');
    assert.equal(r.auth_refresh, 1);
    assert.equal(r.upstream_calls, 2);
    assert.equal(r.upstream_retries, 1);
    assert.equal(upstream.tokenHits.get('tenant-401'), 2);
  });

  test('a revoked refresh token: auth_refresh_failed with its reason, a safe answer', async () => {
    const key = randomBytes(32);
    const a = await instance({ credentials: await credentialStore(`${fx.prefix}rev:`, key) });
    await seed(await credentialStore(`${fx.prefix}rev:`, key), 'tenant-rev');
    upstream.revoke('tenant-rev');
    const c = await client('v1', a, await token('tenant-rev', 'agent-rev'));
    const res = await call(c, 'contacts.search');
    assert.equal(res.isError, true);
    assert.match(res.content![0]!.text!, /auth_refresh_invalid_grant/);
    assert.ok(!res.content![0]!.text!.includes('rt_'), 'no refresh token in the answer');
    const r = a.sink.records.at(-1)!;
    assert.equal(r.outcome, 'system_error');
    assert.equal(r.error_class, 'CredentialError');
    assert.equal(r.auth_refresh_failed, 1);
    assert.equal(r.auth_refresh_reason, 'invalid_grant');
    assert.equal(r.upstream_calls, 0);
    assert.ok(!a.logs.text().includes('rt_'), 'no refresh token in the logs');
  });
});

describe('resilience', () => {
  test('429 + Retry-After is honoured and the retries stop at the budget', async () => {
    const key = randomBytes(32);
    const a = await instance({ credentials: await credentialStore(`${fx.prefix}429:`, key) });
    await seed(await credentialStore(`${fx.prefix}429:`, key), 'tenant-429');
    const c = await client('v1', a, await token('tenant-429', 'agent-429'));
    const started = Date.now();
    const res = await call(c, 'throttled.read');
    const elapsed = Date.now() - started;
    assert.equal(res.isError, true);
    const hits = upstream.seen.filter((s) => s.tenantId === 'tenant-429' && s.path === '/v1/throttled').map((s) => s.at);
    assert.equal(hits.length, 3, 'attempts at ~0 s, ~1 s, ~2 s; a 4th would end past the 2.6 s budget');
    for (let i = 1; i < hits.length; i++) assert.ok(hits[i]! - hits[i - 1]! >= 950, `waited Retry-After (${hits[i]! - hits[i - 1]!} ms)`);
    assert.ok(elapsed < 2_600, `answered within the budget (${elapsed} ms)`);
    const r = a.sink.records.at(-1)!;
    assert.equal(r.upstream_calls, 3);
    assert.equal(r.upstream_retries, 2);
    assert.equal(r.error_code, 'upstream_http_429');
    assert.equal(r.budget_ms_total, 2_600);
    assert.ok(r.budget_ms_used < 2_600);
    const resends = exporter
      .getFinishedSpans()
      .filter((s) => s.kind === SpanKind.CLIENT)
      .map((s) => s.attributes['http.request.resend_count']);
    assert.deepEqual(resends, [undefined, 1, 2], 'one CLIENT span per attempt');
  });

  test('the breaker opens for the failing tenant only', async () => {
    const key = randomBytes(32);
    const a = await instance({ credentials: await credentialStore(`${fx.prefix}cb:`, key) });
    const creds = await credentialStore(`${fx.prefix}cb:`, key);
    await seed(creds, 'tenant-bad');
    await seed(creds, 'tenant-good');
    upstream.failing.add('tenant-bad');
    const bad = await client('v1', a, await token('tenant-bad', 'agent-bad'));
    const good = await client('v1', a, await token('tenant-good', 'agent-good'));

    const first = await call(bad, 'flaky.read');
    const second = await call(bad, 'flaky.read');
    const fine = await call(good, 'flaky.read');
    assert.equal(first.isError, true);
    assert.equal(second.structuredContent?.upstream_unavailable, true);
    assert.ok(second.structuredContent?.retry_after_seconds >= 1);
    assert.notEqual(fine.isError, true);
    assert.equal(JSON.parse(textOf(fine)).tenant, 'tenant-good');

    const failed = upstream.seen.filter((s) => s.tenantId === 'tenant-bad' && s.path === '/v1/flaky');
    assert.equal(failed.length, 3, 'three consecutive failures open the breaker; then nothing is sent');
    const recs = a.sink.records;
    const badRecs = recs.filter((r) => r.tenant_id === 'tenant-bad');
    assert.deepEqual(badRecs.map((r) => r.outcome), ['upstream_unavailable', 'upstream_unavailable']);
    assert.equal(badRecs[1]!.upstream_calls, 0);
    assert.equal(recs.find((r) => r.tenant_id === 'tenant-good')!.outcome, 'ok');
  });

  test('a handler outliving its budget: a structured deadline_exceeded answer, on time', async () => {
    const key = randomBytes(32);
    const a = await instance({ credentials: await credentialStore(`${fx.prefix}dl:`, key) });
    const c = await client('v1', a, await token('tenant-dl', 'agent-dl'));
    const started = Date.now();
    const res = await call(c, 'hang.op');
    assert.ok(Date.now() - started < 1_000);
    assert.equal(res.structuredContent?.deadline_exceeded, true);
    assert.equal(res.structuredContent?.budget_ms, 300);
    const r = a.sink.records.at(-1)!;
    assert.equal(r.outcome, 'deadline_exceeded');
    assert.equal(r.budget_ms_total, 300);
    assert.ok(r.budget_ms_used >= 290 && r.budget_ms_used <= 300, `used ${r.budget_ms_used}`);
  });
});

for (const line of ['v1', 'v2'] as SdkLine[]) {
  describe(`scopes and output safety (SDK ${line})`, () => {
    let a: Instance;
    before(async () => {
      const key = randomBytes(32);
      a = await instance({ line, credentials: await credentialStore(`${fx.prefix}sc${line}:`, key) });
      await seed(await credentialStore(`${fx.prefix}sc${line}:`, key), `tenant-sc-${line}`);
    });

    test('a call without its scope: HTTP 403 + WWW-Authenticate before the SDK runs, one denied record', async () => {
      const bearer = await token(`tenant-sc-${line}`, 'agent-reader', 'contacts:read');
      const c = await client(line, a, bearer);
      // v1 surfaces the HTTP status; v2 raises its InsufficientScopeError.
      await assert.rejects(call(c, 'writes.create', { title: 'x' }), (err: { code?: number; name?: string }) => err.code === 403 || err.name === 'InsufficientScopeError');
      const before = a.sink.records.length;
      const res = await rawToolsCall(a.url, bearer, 'writes.create', { title: 'x' });
      assert.equal(res.status, 403);
      const challenge = res.headers.get('www-authenticate') ?? '';
      assert.match(challenge, /^Bearer error="insufficient_scope", scope="writes:write", resource_metadata="https:\/\/mcp\.test\/\.well-known\/oauth-protected-resource\/mcp"$/);
      const body = (await res.json()) as { id: number; error: { data: { scope: string } } };
      assert.equal(body.id, 42);
      assert.equal(body.error.data.scope, 'writes:write');
      assert.equal(a.sink.records.length, before + 1, 'exactly one record for the refused call');
      const r = a.sink.records.at(-1)!;
      assert.equal(r.outcome, 'denied');
      assert.equal(r.error_code, 'insufficient_scope');
      assert.equal(r.scope_required, 'writes:write');
      assert.equal(r.tenant_id, `tenant-sc-${line}`);
      assert.equal(r.agent_id, 'agent-reader');
      assert.equal(r.tool_version, '1');
      assert.equal(r.upstream_calls, 0);
      assert.ok(!upstream.seen.some((s) => s.path === '/v1/writes' && s.tenantId === `tenant-sc-${line}`));

      // RFC 9728 metadata, and tokens for another resource (RFC 8707 audience) are refused.
      const meta = (await (await fetch(a.url.replace('/mcp', '/.well-known/oauth-protected-resource/mcp'))).json()) as { resource: string };
      assert.equal(meta.resource, 'https://mcp.test/mcp');
      const foreign = await mintHs256(SECRET, standardClaims({ tenant_id: 'x' }), { audience: 'https://other.test/mcp' });
      assert.equal((await rawToolsCall(a.url, foreign, 'contacts.search')).status, 401);
    });

    test('a canary in a non-allow-listed field and in an error body reaches neither the agent, the logs nor the records', async () => {
      const c = await client(line, a, await token(`tenant-sc-${line}`, 'agent-canary'));
      const ok = await call(c, 'contacts.search');
      assert.equal(ok.isError, undefined);
      assert.match(ok.content![0]!.text!, /^<untrusted-data id="[0-9a-f]{32}">\n[\s\S]*\n<\/untrusted-data id="[0-9a-f]{32}">$/);
      assert.deepEqual(JSON.parse(textOf(ok)), { contacts: [{ id: 'C-1', name: 'Ada' }, { id: 'C-2', name: 'Grace' }] });
      assert.deepEqual(ok.structuredContent, { contacts: [{ id: 'C-1', name: 'Ada' }, { id: 'C-2', name: 'Grace' }] });

      const failed = await call(c, 'contacts.leaky');
      assert.equal(failed.isError, true);
      assert.match(failed.content![0]!.text!, /^Upstream request failed \(upstream_http_500\)/);

      assert.ok(upstream.seen.some((s) => s.path === '/v1/leaky-error'), 'the upstream did send the canary');
      assert.ok(!JSON.stringify([ok, failed]).includes(CANARY), 'canary reached the agent');
      assert.ok(!JSON.stringify(a.sink.records).includes(CANARY), 'canary reached a record');
      assert.ok(a.logs.text().includes('"tool_call"'), 'the record lines are logged');
      assert.ok(!a.logs.text().includes(CANARY), 'canary reached the logs');
      const leaky = a.sink.records.at(-1)!;
      assert.equal(leaky.error_class, 'UpstreamError');
      assert.equal(leaky.error_code, 'upstream_http_500');
    });

    test('a deprecated tool keeps working, is flagged on records, warned once', async () => {
      const c = await client(line, a, await token(`tenant-sc-${line}`, 'agent-old'));
      await call(c, 'old.search');
      await call(c, 'old.search');
      const recs = a.sink.records.filter((r: CallRecord) => r.tool === 'old.search');
      assert.ok(recs.length >= 2);
      for (const r of recs) {
        assert.equal(r.outcome, 'ok');
        assert.equal(r.tool_deprecated, true);
        assert.equal(r.tool_version, '1');
      }
      const warns = a.logs.text().split('\n').filter((l) => l.includes('deprecated_tool_called'));
      // Once per process: another describe block may have warned first.
      assert.ok(warns.length <= 1);
    });

    test('a long tool as a job: start_export answers at once, get_job_status returns the result, tenant-scoped', async () => {
      const c = await client(line, a, await token(`tenant-sc-${line}`, 'agent-job'));
      const started = await call(c, 'start_export', { rows: 2 });
      const { job_id, state } = JSON.parse(textOf(started)) as { job_id: string; state: string };
      assert.equal(state, 'running');
      let status: { state: string; result?: { ids: string[] } } = { state: 'running' };
      for (let i = 0; i < 50 && status.state === 'running'; i++) {
        await new Promise((r) => setTimeout(r, 50));
        status = JSON.parse(textOf(await call(c, 'get_job_status', { job_id })));
      }
      assert.equal(status.state, 'succeeded');
      assert.deepEqual(status.result?.ids, ['C-1', 'C-2']);
      const other = await client(line, a, await token('tenant-other', 'agent-x'));
      const foreign = await call(other, 'get_job_status', { job_id });
      assert.equal(foreign.isError, true);
      assert.match(textOf(foreign), /unknown_job/);
    });
  });
}

