import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  CredentialError,
  aesGcmCodec,
  memoryCredentialStore,
  redisCredentialStore,
  type CredentialEvent,
  type CredentialStore,
} from '../packages/mcptrail/src/runtime/credentials/index.js';
import { fakeOAuth } from './support/runtime-oauth.js';
import { keysUnder, redisFixture, type RedisFixture } from './support/runtime-redis.js';

let fx: RedisFixture;
before(() => {
  fx = redisFixture('cred');
});
after(async () => {
  await fx.close();
});

const KEY = randomBytes(32).toString('base64');

async function twoRedisStores(oauth: ReturnType<typeof fakeOAuth>, events: CredentialEvent[], prefix = fx.prefix) {
  const opts = { refresh: oauth.refresh, key: KEY, keyPrefix: prefix, onEvent: (e: CredentialEvent) => events.push(e) };
  return [redisCredentialStore(await fx.client(), opts), redisCredentialStore(await fx.client(), opts)] as const;
}

describe('credential store (redis, two instances)', () => {
  it('100 parallel calls with an expired token: exactly one refresh, everyone gets the new token', async () => {
    const oauth = fakeOAuth({ latencyMs: 100 });
    const events: CredentialEvent[] = [];
    const [a, b] = await twoRedisStores(oauth, events);
    await a.put('acme', oauth.seed('acme', 'acme'));
    const grants = await Promise.all(Array.from({ length: 100 }, (_, i) => (i % 2 ? a : b).acquire('acme')));
    assert.deepEqual(oauth.presented, ['acme-rt-0'], 'one refresh with the seeded refresh token');
    assert.ok(grants.every((g) => g.accessToken === 'acme-at-1'));
    assert.equal(grants.filter((g) => g.refresh === 'performed').length, 1, 'exactly one call, on one instance, performed the refresh');
    assert.deepEqual(events, [{ type: 'refresh', tenantId: 'acme' }]);
  });

  it('rotation: after invalidate on one instance, the other refreshes with the latest refresh token', async () => {
    const oauth = fakeOAuth();
    const events: CredentialEvent[] = [];
    const [a, b] = await twoRedisStores(oauth, events);
    await a.put('rot', oauth.seed('rot', 'rot'));
    const first = await a.getAccessToken('rot');
    assert.equal(first, 'rot-at-1');
    assert.equal(await b.invalidate('rot', 'rot-at-0'), false, 'a stale token does not invalidate the current one');
    assert.equal(await b.getAccessToken('rot'), 'rot-at-1', 'no refresh after a stale invalidate');
    assert.equal(await b.invalidate('rot', first), true, 'a 401 on the current token invalidates it');
    assert.equal(await a.getAccessToken('rot'), 'rot-at-2');
    assert.deepEqual(oauth.presented, ['rot-rt-0', 'rot-rt-1'], 'each refresh used the latest (rotated) refresh token');
    assert.equal(events.filter((e) => e.type === 'refresh').length, 2);
  });

  it('revoked refresh token: refresh_failed with a reason class and no secret anywhere', async () => {
    const oauth = fakeOAuth();
    const events: CredentialEvent[] = [];
    const [a] = await twoRedisStores(oauth, events);
    const canary = `CANARY-${randomBytes(8).toString('hex')}`;
    const seeded = oauth.seed('rev', canary);
    await a.put('rev', seeded);
    oauth.revoke('rev');
    const err = await a.getAccessToken('rev').then(
      () => assert.fail('expected a CredentialError'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof CredentialError);
    assert.ok(['revoked', 'invalid_grant'].includes(err.reason), `reason ${err.reason}`);
    assert.equal(oauth.presented.length, 1, 'the refresh was attempted with the stored refresh token');
    const failed = events.filter((e) => e.type === 'refresh_failed');
    assert.equal(failed.length, 1);
    assert.equal(failed[0]!.type === 'refresh_failed' && failed[0]!.reason, err.reason);
    for (const surface of [JSON.stringify(err), err.message, String(err.stack), JSON.stringify(events), String(err)]) {
      assert.ok(!surface.includes(canary), 'no token in the error or the events');
    }
  });

  it('tokens are encrypted at rest and bound to their tenant', async () => {
    const oauth = fakeOAuth();
    const prefix = `${fx.prefix}rest:`;
    const [a] = await twoRedisStores(oauth, [], prefix);
    const redis = await fx.client();
    const canary = `SECRET-${randomBytes(8).toString('hex')}`;
    await a.put('t1', { accessToken: `${canary}-at`, refreshToken: `${canary}-rt`, expiresAt: Date.now() + 3_600_000 });
    const keys = await keysUnder(redis, prefix);
    assert.equal(keys.length, 1);
    const raw = (await redis.get(keys[0]!))!;
    assert.ok(raw.startsWith('v1.'));
    assert.ok(!raw.includes(canary), 'the raw Redis value does not contain the token');
    assert.equal(await a.getAccessToken('t1'), `${canary}-at`, 'and it round-trips');
    // Another tenant's entry holding this blob does not decrypt (tenant id is authenticated data).
    await redis.set(keys[0]!.replace(/t1$/, 't2'), raw);
    await assert.rejects(a.getAccessToken('t2'), (e: unknown) => e instanceof CredentialError && e.reason === 'undecryptable');
    // A different key cannot read it either.
    assert.throws(() => aesGcmCodec(randomBytes(32)).decode('t1', raw));
  });

  it('refuses to run without an encryption key', async () => {
    const saved = process.env.MCPTRAIL_CREDENTIALS_KEY;
    delete process.env.MCPTRAIL_CREDENTIALS_KEY;
    try {
      const redis = await fx.client();
      assert.throws(() => redisCredentialStore(redis, { refresh: fakeOAuth().refresh }), /MCPTRAIL_CREDENTIALS_KEY/);
    } finally {
      if (saved !== undefined) process.env.MCPTRAIL_CREDENTIALS_KEY = saved;
    }
  });
});

describe('credential store (memory)', () => {
  let store: CredentialStore;
  let oauth: ReturnType<typeof fakeOAuth>;
  const events: CredentialEvent[] = [];
  before(() => {
    oauth = fakeOAuth();
    store = memoryCredentialStore({ refresh: oauth.refresh, onEvent: (e) => events.push(e) });
  });

  it('single-flight in process; fresh tokens are served without refresh; skew applies', async () => {
    await store.put('m', oauth.seed('m', 'm'));
    const tokens = await Promise.all(Array.from({ length: 20 }, () => store.getAccessToken('m')));
    assert.ok(tokens.every((t) => t === 'm-at-1'));
    assert.equal(oauth.presented.length, 1);
    assert.deepEqual(await store.acquire('m'), { accessToken: 'm-at-1', refresh: 'none' });
    // Within the 60 s skew of expiry: refreshed ahead of time.
    await store.put('skew', { accessToken: 'skew-at-0', refreshToken: 'skew-rt-0', expiresAt: Date.now() + 30_000 });
    oauth.seed('skew', 'skew');
    assert.equal((await store.acquire('skew')).refresh, 'performed');
  });

  it('unknown tenant and network failures map to reason classes', async () => {
    await assert.rejects(store.getAccessToken('nobody'), (e: unknown) => e instanceof CredentialError && e.reason === 'not_configured');
    const net = memoryCredentialStore({
      refresh: async () => {
        throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
      },
    });
    await net.put('t', { accessToken: 'a', refreshToken: 'r', expiresAt: 0 });
    await assert.rejects(net.getAccessToken('t'), (e: unknown) => e instanceof CredentialError && e.reason === 'network');
    const slow = memoryCredentialStore({
      refreshTimeoutMs: 50,
      refresh: (_t, _r, signal) =>
        new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason))),
    });
    await slow.put('t', { accessToken: 'a', refreshToken: 'r', expiresAt: 0 });
    await assert.rejects(slow.getAccessToken('t'), (e: unknown) => e instanceof CredentialError && e.reason === 'timeout');
  });
});
