import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  IdempotencyConflictError,
  IdempotencyWaitTimeoutError,
  canonicalJson,
  idempotencyKey,
  memoryIdempotencyStore,
  redisIdempotencyStore,
  type Begun,
  type IdempotencyStore,
} from '../packages/mcptrail/src/runtime/idempotency/index.js';
import { keysUnder, redisFixture, type RedisFixture } from './support/runtime-redis.js';

let fx: RedisFixture;
before(() => {
  fx = redisFixture('idem');
});
after(async () => {
  await fx.close();
});

/** Runs `work` under the idempotency protocol, as the call pipeline will. */
async function run(store: IdempotencyStore, req: Parameters<IdempotencyStore['begin']>[0], work: () => Promise<unknown>) {
  const begun: Begun = await store.begin(req);
  if (begun.state === 'replay') return { replay: true, result: begun.result };
  try {
    const result = await work();
    await begun.complete(result);
    return { replay: false, result };
  } catch (err) {
    await begun.fail();
    throw err;
  }
}

describe('idempotency keys', () => {
  it('canonical JSON ignores key order; derived keys differ per tenant, tool and args', () => {
    assert.equal(canonicalJson({ b: 1, a: { d: [1, { y: 2, x: 1 }], c: null } }), '{"a":{"c":null,"d":[1,{"x":1,"y":2}]},"b":1}');
    const base = { tenantId: 't', tool: 'create_invoice', args: { amount: 5, to: 'x' } };
    assert.equal(idempotencyKey(base), idempotencyKey({ ...base, args: { to: 'x', amount: 5 } }));
    assert.match(idempotencyKey(base), /^[0-9a-f]{64}$/);
    assert.notEqual(idempotencyKey(base), idempotencyKey({ ...base, tenantId: 'u' }));
    assert.notEqual(idempotencyKey(base), idempotencyKey({ ...base, tool: 'other' }));
    assert.notEqual(idempotencyKey(base), idempotencyKey({ ...base, args: { amount: 6, to: 'x' } }));
    assert.equal(idempotencyKey({ ...base, callerKey: 'k-1' }), 'k-1');
  });
});

for (const kind of ['memory', 'redis'] as const) {
  describe(`idempotency store (${kind})`, () => {
    let stores: [IdempotencyStore, IdempotencyStore];
    before(async () => {
      if (kind === 'memory') {
        const s = memoryIdempotencyStore();
        stores = [s, s];
      } else {
        const opts = { keyPrefix: fx.prefix };
        stores = [redisIdempotencyStore(await fx.client(), opts), redisIdempotencyStore(await fx.client(), opts)];
      }
    });

    it('50 concurrent duplicates: one executes, 49 replay its result', async () => {
      let executions = 0;
      const req = { tenantId: 'acme', tool: 'create_invoice', args: { amount: 100 } };
      const outcomes = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          run(stores[i % 2]!, req, async () => {
            executions++;
            await sleep(100);
            return { invoiceId: 'inv-1', n: executions };
          }),
        ),
      );
      assert.equal(executions, 1);
      assert.equal(outcomes.filter((o) => !o.replay).length, 1);
      assert.equal(outcomes.filter((o) => o.replay).length, 49);
      for (const o of outcomes) assert.deepEqual(o.result, { invoiceId: 'inv-1', n: 1 });
    });

    it('a failed first attempt releases the key: a waiting duplicate and later retries run', async () => {
      const req = { tenantId: 'acme', tool: 'send_email', args: { to: 'a@b.c' } };
      let executions = 0;
      const first = run(stores[0], req, async () => {
        executions++;
        await sleep(50);
        throw new Error('upstream 503');
      });
      await sleep(10);
      const waiting = run(stores[1], req, async () => {
        executions++;
        return 'sent';
      });
      await assert.rejects(first, /upstream 503/);
      assert.deepEqual(await waiting, { replay: false, result: 'sent' });
      assert.equal(executions, 2);
      assert.deepEqual(await run(stores[0], req, async () => 'again'), { replay: true, result: 'sent' });
    });

    it('tenants are isolated, even with the same caller key', async () => {
      const a = await run(stores[0], { tenantId: 'A', tool: 't', args: {}, callerKey: 'same-key' }, async () => 'A-secret');
      const b = await run(stores[1], { tenantId: 'B', tool: 't', args: {}, callerKey: 'same-key' }, async () => 'B-result');
      assert.deepEqual(a, { replay: false, result: 'A-secret' });
      assert.deepEqual(b, { replay: false, result: 'B-result' });
    });

    it('a caller key reused for different arguments is a conflict, not a replay', async () => {
      await run(stores[0], { tenantId: 'A', tool: 't', args: { x: 1 }, callerKey: 'k-conflict' }, async () => 'one');
      await assert.rejects(
        stores[1].begin({ tenantId: 'A', tool: 't', args: { x: 2 }, callerKey: 'k-conflict' }),
        IdempotencyConflictError,
      );
    });

    it('a duplicate waits a bounded time for a holder that never finishes', async () => {
      const req = { tenantId: 'A', tool: 'slow', args: {} };
      const holder = await stores[0].begin(req);
      assert.equal(holder.state, 'new');
      await assert.rejects(stores[1].begin(req, { waitTimeoutMs: 150 }), IdempotencyWaitTimeoutError);
      if (holder.state === 'new') await holder.fail();
    });
  });
}

describe('idempotency store (redis storage)', () => {
  it('records the key with a TTL before the work starts, result TTL after', async () => {
    const redis = await fx.client();
    const prefix = `${fx.prefix}ttl:`;
    const store = redisIdempotencyStore(redis, { keyPrefix: prefix, pendingTtlMs: 30_000, ttlMs: 3_600_000 });
    const begun = await store.begin({ tenantId: 'A', tool: 't', args: { q: 1 } });
    assert.equal(begun.state, 'new');
    const [key] = await keysUnder(redis, prefix);
    assert.ok(key, 'key exists while the work is in progress');
    const pendingTtl = await redis.pttl(key);
    assert.ok(pendingTtl > 0 && pendingTtl <= 30_000);
    if (begun.state === 'new') assert.equal(await begun.complete({ ok: true }), true);
    const doneTtl = await redis.pttl(key);
    assert.ok(doneTtl > 30_000 && doneTtl <= 3_600_000);
  });
});
