import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import {
  MemoryConcurrencyCap,
  RateLimits,
  RedisConcurrencyCap,
  httpRetryAfter,
  permanentDenyResult,
  rateLimitedResult,
  type LimitDecision,
  type LimitsConfig,
  type LimitsEvent,
  type LimitsStore,
} from '../packages/mcptrail/src/runtime/limits/index.js';
import { closeRedis } from '../packages/mcptrail/src/runtime/redis.js';
import { deadRedis, redisFixture, type RedisFixture } from './support/runtime-redis.js';

let fx: RedisFixture;
before(() => {
  fx = redisFixture('limits');
});
after(async () => {
  await fx.close();
});

const budgetOf = (d: LimitDecision) => (d.allowed ? 'ok' : d.permanent ? `deny:${d.reason}` : d.budget);

describe('rate limits', () => {
  it('two instances sharing Redis enforce one budget', async () => {
    const [r1, r2] = [await fx.client(), await fx.client()];
    const store = (redis: typeof r1): LimitsStore => ({ kind: 'redis', redis, keyPrefix: `${fx.prefix}shared:` });
    const config: LimitsConfig = { tenant: { points: 10, perSeconds: 60 } };
    const a = new RateLimits(config, { store: store(r1) });
    const b = new RateLimits(config, { store: store(r2) });
    const subject = { tenantId: 'acme', agentId: 'agent-1', tool: 'search' };
    const decisions: LimitDecision[] = [];
    for (let i = 0; i < 10; i++) decisions.push(await (i % 2 ? a : b).take(subject));
    assert.ok(decisions.every((d) => d.allowed), 'the first 10 calls across both instances are allowed');
    const eleventh = await a.take(subject);
    assert.equal(eleventh.allowed, false);
    assert.ok(!eleventh.allowed && !eleventh.permanent);
    assert.equal(eleventh.budget, 'tenant');
    assert.ok(eleventh.retryAfterSeconds >= 1 && eleventh.retryAfterSeconds <= 60);
    assert.equal((await b.take(subject)).allowed, false, 'the other instance sees the same exhausted budget');
    assert.equal((await b.take({ ...subject, tenantId: 'other' })).allowed, true, 'other tenants are untouched');
    assert.equal(a.degraded, false);
  });

  // Each step: subject + expected budget name ('ok' when allowed).
  const config: LimitsConfig = {
    agent: { points: 3, perSeconds: 60 },
    tool: { search: { points: 2, perSeconds: 60 }, '*': { points: 5, perSeconds: 60 } },
    tenant: { points: 6, perSeconds: 60 },
  };
  const script: Array<[agentId: string, tool: string, expected: string]> = [
    ['a1', 'search', 'ok'],
    ['a1', 'search', 'ok'],
    ['a1', 'search', 'tool'], // search budget (2) used up; a1's agent point is refunded
    ['a1', 'write', 'ok'], // a1's third point: only possible because of the refund
    ['a1', 'write', 'agent'],
    ['a2', 'write', 'ok'],
    ['a2', 'write', 'ok'],
    ['a3', 'write', 'ok'], // tenant at 6/6 (2 search + 4 write)
    ['a4', 'write', 'tenant'],
    ['a4', 'search', 'tool'], // tool checked before tenant
    ['a5', 'write', 'tenant'],
  ];

  async function runScript(limits: RateLimits): Promise<string[]> {
    const out: string[] = [];
    for (const [agentId, tool] of script) out.push(budgetOf(await limits.take({ tenantId: 't1', agentId, tool })));
    // Another tenant with the same agent and tool ids has its own budgets.
    out.push(budgetOf(await limits.take({ tenantId: 't2', agentId: 'a1', tool: 'search' })));
    return out;
  }
  const expected = [...script.map((s) => s[2]), 'ok'];

  it('agent, tool and tenant budgets trip independently and are named (memory)', async () => {
    assert.deepEqual(await runScript(new RateLimits(config)), expected);
  });

  it('Redis behaves like memory on the same script', async () => {
    const redis = await fx.client();
    const limits = new RateLimits(config, { store: { kind: 'redis', redis, keyPrefix: `${fx.prefix}script:` } });
    assert.deepEqual(await runScript(limits), expected);
  });

  it('permanent denial is distinct from rate limiting and consumes nothing', async () => {
    const limits = new RateLimits(
      { tenant: { points: 1, perSeconds: 60 } },
      { deny: ({ tenantId }) => (tenantId === 'suspended' ? 'tenant_suspended' : undefined) },
    );
    const denied = await limits.take({ tenantId: 'suspended', agentId: 'a', tool: 't' });
    assert.deepEqual(denied, { allowed: false, permanent: true, reason: 'tenant_suspended' });
    assert.equal((await limits.take({ tenantId: 'ok', agentId: 'a', tool: 't' })).allowed, true);
  });

  it('Redis unreachable: insurance limiter enforces per instance and the degraded signal fires once', async () => {
    const redis = deadRedis();
    try {
      const events: LimitsEvent[] = [];
      const limits = new RateLimits(
        { agent: { points: 2, perSeconds: 60 } },
        { store: { kind: 'redis', redis }, onEvent: (e) => events.push(e) },
      );
      const s = { tenantId: 't', agentId: 'a', tool: 'x' };
      assert.equal(limits.degraded, false);
      const got = [await limits.take(s), await limits.take(s), await limits.take(s)].map(budgetOf);
      assert.deepEqual(got, ['ok', 'ok', 'agent'], 'the insurance limiter still enforces the budget');
      assert.equal(limits.degraded, true);
      assert.equal(limits.fallbackDecisions, 3);
      assert.deepEqual(
        events.map((e) => e.type),
        ['degraded'],
        'one event per outage, not per call',
      );
    } finally {
      await closeRedis(redis);
    }
  });

  it('an outage and its recovery emit degraded then recovered', async () => {
    const redis = await fx.client();
    const events: LimitsEvent[] = [];
    const limits = new RateLimits(
      { agent: { points: 100, perSeconds: 60 } },
      { store: { kind: 'redis', redis, keyPrefix: `${fx.prefix}outage:` }, onEvent: (e) => events.push(e) },
    );
    const s = { tenantId: 't', agentId: 'a', tool: 'x' };
    await limits.take(s);
    const back = once(redis, 'ready');
    redis.disconnect(true); // outage: the socket drops and ioredis starts reconnecting
    await limits.take(s);
    assert.equal(limits.degraded, true);
    await back;
    await limits.take(s);
    assert.equal(limits.degraded, false);
    assert.deepEqual(events.map((e) => e.type), ['degraded', 'recovered']);
  });

  it('Redis unreachable with onStoreDown allow / deny fails open / closed, still degraded', async () => {
    const redis = deadRedis();
    try {
      const s = { tenantId: 't', agentId: 'a', tool: 'x' };
      const open = new RateLimits({ agent: { points: 1, perSeconds: 60 } }, { store: { kind: 'redis', redis, onStoreDown: 'allow' } });
      assert.deepEqual([await open.take(s), await open.take(s)].map(budgetOf), ['ok', 'ok']);
      assert.equal(open.degraded, true);
      const closed = new RateLimits({ agent: { points: 1, perSeconds: 60 } }, { store: { kind: 'redis', redis, onStoreDown: 'deny' } });
      assert.equal(budgetOf(await closed.take(s)), 'agent');
      assert.equal(closed.degraded, true);
    } finally {
      await closeRedis(redis);
    }
  });
});

describe('answers agents understand', () => {
  it('rate-limited tool result, permanent denial, HTTP 429', () => {
    const limited = { allowed: false, permanent: false, budget: 'tool', retryAfterSeconds: 12 } as const;
    const r = rateLimitedResult(limited);
    assert.equal(r.isError, true);
    assert.deepEqual(r.structuredContent, { rate_limited: true, retry_after_seconds: 12, budget: 'tool', retryable: true });
    assert.match(r.content[0]!.text, /12 seconds/);

    const denied = { allowed: false, permanent: true, reason: 'tool_disabled' } as const;
    const d = permanentDenyResult(denied);
    assert.equal(d.structuredContent.retryable, false);
    assert.equal(d.structuredContent.rate_limited, undefined, 'a denial is not a rate limit');

    assert.deepEqual(httpRetryAfter(limited).headers, { 'Retry-After': '12' });
    assert.equal(httpRetryAfter(limited).status, 429);
    assert.equal(httpRetryAfter(denied).status, 403);
    assert.equal(httpRetryAfter(denied).headers['Retry-After'], undefined);
  });
});

describe('concurrency caps', () => {
  it('memory: refuses above the cap, release frees exactly one slot', async () => {
    const cap = new MemoryConcurrencyCap(2);
    const g1 = await cap.acquire('t');
    const g2 = await cap.acquire('t');
    const g3 = await cap.acquire('t');
    assert.ok(g1.allowed && g2.allowed);
    assert.deepEqual(g3, { allowed: false, permanent: false, budget: 'concurrency', retryAfterSeconds: 1 });
    assert.equal((await cap.acquire('other')).allowed, true, 'per tenant');
    g1.release();
    g1.release(); // idempotent
    assert.equal(cap.inFlightFor('t'), 1);
    assert.equal((await cap.acquire('t')).allowed, true);
    assert.equal((await cap.acquire('t')).allowed, false);
  });

  it('Redis: one cap across instances', async () => {
    const [r1, r2] = [await fx.client(), await fx.client()];
    const opts = { maxInFlight: 3, keyPrefix: `${fx.prefix}cc:` };
    const a = new RedisConcurrencyCap({ ...opts, redis: r1 });
    const b = new RedisConcurrencyCap({ ...opts, redis: r2 });
    const grants = [await a.acquire('t'), await b.acquire('t'), await a.acquire('t')];
    assert.ok(grants.every((g) => g.allowed));
    const refused = await b.acquire('t');
    assert.equal(refused.allowed, false);
    assert.ok(!refused.allowed && refused.budget === 'concurrency');
    const first = grants[0]!;
    assert.ok(first.allowed);
    first.release();
    // release is fire-and-forget; wait for the slot to come back
    let again = await b.acquire('t');
    for (let i = 0; i < 50 && !again.allowed; i++) {
      await new Promise((r) => setTimeout(r, 10));
      again = await b.acquire('t');
    }
    assert.equal(again.allowed, true);
    assert.equal(a.degraded, false);
  });

  it('Redis unreachable: falls back to a per-instance cap and reports degraded', async () => {
    const redis = deadRedis();
    try {
      const events: LimitsEvent[] = [];
      const cap = new RedisConcurrencyCap({ redis, maxInFlight: 1, onEvent: (e) => events.push(e) });
      assert.equal((await cap.acquire('t')).allowed, true);
      assert.equal((await cap.acquire('t')).allowed, false);
      assert.equal(cap.degraded, true);
      assert.equal(events[0]?.type, 'degraded');
    } finally {
      await closeRedis(redis);
    }
  });
});
