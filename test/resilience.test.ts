import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CircuitBreakers,
  Resilience,
  RetryPolicy,
  UpstreamUnavailableError,
  classify,
  newRetryStats,
  parseRetryAfter,
  type BreakerStateChange,
} from '../packages/mcptrail/src/runtime/resilience/index.js';
import { HttpStatusError, call, scriptedUpstream, type ScriptedUpstream } from './support/runtime-http.js';

let upstream: ScriptedUpstream;
before(async () => {
  upstream = await scriptedUpstream();
});
after(async () => {
  await upstream.close();
});

const read = classify({ method: 'GET', kind: 'read' });
const throttled = { status: 429, headers: { 'Retry-After': '1' } };

describe('classify', () => {
  it('reads retry; writes only with a key the upstream honours', () => {
    assert.equal(read.retrySafe, true);
    assert.equal(classify({ method: 'POST', kind: 'write' }).retrySafe, false);
    assert.equal(classify({ method: 'POST', kind: 'write', idempotencyKey: 'k' }).retrySafe, false);
    assert.equal(classify({ method: 'POST', kind: 'write', upstreamHonoursIdempotency: true }).retrySafe, false);
    assert.deepEqual(classify({ method: 'POST', kind: 'write', idempotencyKey: 'k', upstreamHonoursIdempotency: true }), {
      retrySafe: true,
      reason: 'idempotent_write',
    });
  });

  it('parses Retry-After seconds and HTTP dates', () => {
    assert.equal(parseRetryAfter('2'), 2000);
    const now = Date.parse('2026-01-01T00:00:00Z');
    assert.equal(parseRetryAfter('Thu, 01 Jan 2026 00:00:05 GMT', now), 5000);
    assert.equal(parseRetryAfter('Wed, 31 Dec 2025 23:59:00 GMT', now), 0);
    assert.equal(parseRetryAfter('soon'), undefined);
    assert.equal(parseRetryAfter(undefined), undefined);
  });
});

describe('retry policy against a real HTTP upstream', () => {
  it('429 + Retry-After: 1 twice, then 200: waits ~1 s between attempts, succeeds with 2 retries', async () => {
    upstream.script('/a', [throttled, throttled, { status: 200, body: { ok: true } }]);
    const stats = newRetryStats();
    const body = await new RetryPolicy({ maxAttempts: 4 }).execute(() => call(`${upstream.url}/a`), { safety: read, stats });
    assert.deepEqual(body, { ok: true });
    assert.equal(stats.retries, 2);
    const t = upstream.hits.get('/a')!;
    assert.equal(t.length, 3);
    assert.ok(t[1]! - t[0]! >= 950, `waited ${t[1]! - t[0]!} ms before the 2nd attempt`);
    assert.ok(t[2]! - t[1]! >= 950, `waited ${t[2]! - t[1]!} ms before the 3rd attempt`);
  });

  it('never sleeps past the deadline: with 1.5 s left it gives up after one wait', async () => {
    upstream.script('/b', [throttled, throttled, { status: 200 }]);
    const stats = newRetryStats();
    const deadline = Date.now() + 1_500;
    const err = await new RetryPolicy({ maxAttempts: 4 })
      .execute(() => call(`${upstream.url}/b`), { safety: read, stats, remainingMs: () => deadline - Date.now() })
      .then(
        () => assert.fail('expected the 429 to surface'),
        (e: unknown) => e,
      );
    assert.ok(err instanceof HttpStatusError && err.status === 429);
    assert.ok(Date.now() <= deadline, 'returned before the deadline');
    assert.equal(stats.retries, 1);
    assert.equal(stats.stoppedBy, 'deadline');
    assert.equal(upstream.hits.get('/b')!.length, 2);
  });

  it('a non-idempotent write without a key is never retried', async () => {
    upstream.script('/c', [{ status: 503 }, { status: 200 }]);
    const stats = newRetryStats();
    await assert.rejects(
      new RetryPolicy().execute(() => call(`${upstream.url}/c`, { method: 'POST' }), {
        safety: classify({ method: 'POST', kind: 'write' }),
        stats,
      }),
      (e: unknown) => e instanceof HttpStatusError && e.status === 503,
    );
    assert.equal(upstream.hits.get('/c')!.length, 1);
    assert.equal(stats.retries, 0);
    assert.equal(stats.stoppedBy, 'not_retry_safe');
  });

  it('an idempotent write with an honoured key is retried; a 4xx is not', async () => {
    upstream.script('/d', [{ status: 502 }, { status: 200, body: { id: 1 } }]);
    const safety = classify({ method: 'POST', kind: 'write', idempotencyKey: 'k', upstreamHonoursIdempotency: true });
    const stats = newRetryStats();
    const policy = new RetryPolicy({ baseDelayMs: 10 });
    assert.deepEqual(await policy.execute(() => call(`${upstream.url}/d`, { method: 'POST' }), { safety, stats }), { id: 1 });
    assert.equal(stats.retries, 1);
    upstream.script('/e', [{ status: 400 }, { status: 200 }]);
    const s2 = newRetryStats();
    await assert.rejects(policy.execute(() => call(`${upstream.url}/e`), { safety: read, stats: s2 }));
    assert.equal(s2.stoppedBy, 'not_retryable');
    assert.equal(upstream.hits.get('/e')!.length, 1);
  });

  it('network errors are retried up to maxAttempts', async () => {
    const closed = await scriptedUpstream();
    await closed.close(); // a port that was just free: connection refused
    const stats = newRetryStats();
    let attempts = 0;
    await assert.rejects(
      new RetryPolicy({ maxAttempts: 3, baseDelayMs: 5 }).execute(
        () => {
          attempts++;
          return call(`${closed.url}/`);
        },
        { safety: read, stats },
      ),
    );
    assert.equal(attempts, 3);
    assert.equal(stats.retries, 2);
    assert.equal(stats.stoppedBy, 'max_attempts');
  });
});

describe('circuit breakers per tenant × upstream', () => {
  it("opens for the failing tenant only; tenant B's calls still go through", async () => {
    upstream.script('/tenant-a', [{ status: 503 }]);
    upstream.script('/tenant-b', [{ status: 200, body: { ok: 'b' } }]);
    const changes: BreakerStateChange[] = [];
    const resilience = new Resilience(
      new RetryPolicy({ maxAttempts: 1 }),
      new CircuitBreakers({ threshold: 3, halfOpenAfterMs: 60_000, onStateChange: (c) => changes.push(c) }),
    );
    const callA = () => resilience.execute({ tenantId: 'A', upstream: 'crm', safety: read }, () => call(`${upstream.url}/tenant-a`));
    const callB = () => resilience.execute({ tenantId: 'B', upstream: 'crm', safety: read }, () => call(`${upstream.url}/tenant-b`));
    for (let i = 0; i < 3; i++) await assert.rejects(callA(), HttpStatusError);
    assert.equal(resilience.breakers.state('A', 'crm'), 'open');
    const hitsBefore = upstream.hits.get('/tenant-a')!.length;
    const err = await callA().then(
      () => assert.fail('expected upstream_unavailable'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof UpstreamUnavailableError);
    assert.equal(err.outcome, 'upstream_unavailable');
    assert.equal(err.retryAfterSeconds, 60);
    assert.equal(upstream.hits.get('/tenant-a')!.length, hitsBefore, 'an open breaker does not call upstream');
    assert.deepEqual(await callB(), { ok: 'b' });
    assert.equal(resilience.breakers.state('B', 'crm'), 'closed');
    assert.deepEqual(changes, [{ tenantId: 'A', upstream: 'crm', state: 'open' }]);
  });

  it('an open breaker is not retried, and 4xx answers do not trip it', async () => {
    upstream.script('/f', [{ status: 404 }]);
    const breakers = new CircuitBreakers({ threshold: 2 });
    for (let i = 0; i < 5; i++) await assert.rejects(breakers.execute('T', 'crm', () => call(`${upstream.url}/f`)), HttpStatusError);
    assert.equal(breakers.state('T', 'crm'), 'closed');

    upstream.script('/g', [{ status: 503 }]);
    const resilience = new Resilience(new RetryPolicy({ maxAttempts: 4, baseDelayMs: 5 }), new CircuitBreakers({ threshold: 2 }));
    const stats = newRetryStats();
    await assert.rejects(
      resilience.execute({ tenantId: 'T', upstream: 'crm', safety: read, stats }, () => call(`${upstream.url}/g`)),
      UpstreamUnavailableError,
    );
    assert.equal(upstream.hits.get('/g')!.length, 2, 'two failures opened it; the third attempt never left');
    assert.equal(stats.retries, 2);
    assert.equal(stats.stoppedBy, 'not_retryable');
  });

  it('keeps a bounded number of breakers', async () => {
    const breakers = new CircuitBreakers({ maxKeys: 3 });
    for (const t of ['a', 'b', 'c', 'd', 'e']) await breakers.execute(t, 'crm', async () => 1);
    assert.equal(breakers.size, 3);
  });
});
