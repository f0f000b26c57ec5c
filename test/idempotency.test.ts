import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  IdempotencyConflictError,
  IdempotencyWaitTimeoutError,
  canonicalJson,
  idempotencyKey,
  fileIdempotencyStore,
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
  it('records the key before the work starts, its lease in the index; settling takes it out of the index', async () => {
    const redis = await fx.client();
    const prefix = `${fx.prefix}ttl:`;
    const store = redisIdempotencyStore(redis, { keyPrefix: prefix, pendingTtlMs: 30_000, ttlMs: 3_600_000 });
    const begun = await store.begin({ tenantId: 'A', tool: 't', args: { q: 1 }, callerKey: 'caller-key-with-customer-data' });
    assert.equal(begun.state, 'new');
    const keys = await keysUnder(redis, prefix);
    const index = `${prefix}idem-leases`;
    const [key] = keys.filter((k) => k !== index);
    assert.ok(key, 'key exists while the work is in progress');
    assert.ok(!key.includes('caller-key'), 'storage sees the hash of a caller key, not the key');
    const ttl = await redis.pttl(key);
    assert.ok(ttl > 30_000 && ttl <= 3_600_000, 'an in-progress key lives as long as a result: a dead holder leaves an interruption, not a free key');
    const lease = Number(await redis.zscore(index, key));
    assert.ok(lease > Date.now() && lease <= Date.now() + 30_000, 'the lease is indexed');
    if (begun.state === 'new') assert.equal(await begun.complete({ ok: true }), true);
    assert.equal(await redis.zscore(index, key), null, 'a settled key leaves the index');
  });
});

describe('interruptions', () => {
  const stores: Array<[string, () => Promise<IdempotencyStore>]> = [
    ['memory', async () => memoryIdempotencyStore({ pendingTtlMs: 50 })],
    ['file', async () => fileIdempotencyStore({ dir: await mkdtemp(join(tmpdir(), 'mcptrail-idem-')), pendingTtlMs: 50 })],
    ['redis', async () => redisIdempotencyStore(await fx.client(), { keyPrefix: `${fx.prefix}int:${randomUUID()}:`, pendingTtlMs: 50 })],
  ];
  for (const [kind, make] of stores) {
    it(`${kind}: a holder that never settles is reported once (its intent), and its retry is answered interrupted, not run`, async () => {
      const store = await make();
      const reported: unknown[] = [];
      store.watchInterrupted((intent) => reported.push(intent));
      const req = { tenantId: 'A', tool: 'refund', args: { amount: 5 }, callerKey: `k-${randomUUID()}` };
      const holder = await store.begin(req, { intent: (key) => ({ call_id: 'call-1', key }) });
      assert.equal(holder.state, 'new');
      await sleep(80);
      // Two retries at once, and a sweep: one report between them.
      const [a, b, swept] = await Promise.all([store.begin(req), store.begin(req), store.sweep()]);
      assert.equal(a.state, 'interrupted');
      assert.equal(b.state, 'interrupted');
      if (a.state === 'interrupted') assert.deepEqual(a.intent, { call_id: 'call-1', key: req.callerKey });
      assert.ok(swept <= 1);
      assert.deepEqual(reported, [{ call_id: 'call-1', key: req.callerKey }], 'reported exactly once');
      // The dead holder's late settle loses: it cannot overwrite the interruption.
      if (holder.state === 'new') assert.equal(await holder.complete('late'), false);
      assert.equal((await store.begin(req)).state, 'interrupted');
      // Where the upstream dedupes by the key, the retry runs again.
      const rerun = await store.begin(req, { rerunInterrupted: true });
      assert.equal(rerun.state, 'new');
      if (rerun.state === 'new') await rerun.complete('second run');
      assert.deepEqual(await store.begin(req), { state: 'replay', key: req.callerKey, result: 'second run' });
      await store.close();
    });

    it(`${kind}: an abandoned call (ambiguous failure) answers retries interrupted without being reported`, async () => {
      const store = await make();
      const reported: unknown[] = [];
      store.watchInterrupted((intent) => reported.push(intent));
      const req = { tenantId: 'A', tool: 'refund', args: { amount: 6 }, callerKey: `k-${randomUUID()}` };
      const holder = await store.begin(req, { intent: () => ({ call_id: 'call-2' }) });
      if (holder.state === 'new') await holder.abandon();
      const retry = await store.begin(req);
      assert.equal(retry.state, 'interrupted');
      assert.equal(await store.sweep(), 0);
      assert.deepEqual(reported, []);
      await store.close();
    });
  }

  it('file: results, interruptions and unfinished intents survive closing and reopening the journal', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mcptrail-idem-'));
    const first = fileIdempotencyStore({ dir });
    const done = { tenantId: 'A', tool: 'refund', args: { n: 1 }, callerKey: 'done-key' };
    const open = { tenantId: 'A', tool: 'refund', args: { n: 2 }, callerKey: 'open-key' };
    const d = await first.begin(done);
    if (d.state === 'new') await d.complete({ refund: 'R-1' });
    const o = await first.begin(open, { intent: () => ({ call_id: 'call-open' }) });
    assert.equal(o.state, 'new');
    // Not settled: as if the process died here (the journal is only closed, never told).
    await first.close();
    const journal = await readFile(join(dir, 'journal.ndjson'), 'utf8');
    assert.ok(!journal.includes('done-key') && !journal.includes('open-key'), 'keys are stored hashed');

    const second = fileIdempotencyStore({ dir });
    const reported: unknown[] = [];
    assert.equal(await second.watchInterrupted((intent) => reported.push(intent)), 1, 'the first sweep finds the unfinished call');
    assert.deepEqual(await second.begin(done), { state: 'replay', key: 'done-key', result: { refund: 'R-1' } });
    assert.equal((await second.begin(open)).state, 'interrupted');
    assert.deepEqual(reported, [{ call_id: 'call-open' }]);
    await second.close();
    // Reported once across restarts too.
    const third = fileIdempotencyStore({ dir });
    const again: unknown[] = [];
    assert.equal(await third.watchInterrupted((intent) => again.push(intent)), 0);
    assert.deepEqual(again, []);
    assert.equal((await third.begin(open)).state, 'interrupted');
    await third.close();
    await rm(dir, { recursive: true, force: true });
  });
});
