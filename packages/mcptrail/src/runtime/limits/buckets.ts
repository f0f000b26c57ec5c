import type { Redis } from 'ioredis';
import type { RateLimiterAbstract, RateLimiterMemory, IRateLimiterOptions } from 'rate-limiter-flexible';
import { lazy } from '../../lazy.js';
import type { DegradedSignal } from './degraded.js';
import type { BucketSpec } from './types.js';

/**
 * Where budgets live. `redis` shares one budget across instances. When Redis
 * is unreachable, `onStoreDown` decides:
 *  - `insurance` (default): a per-instance in-memory limiter with the same
 *    spec takes over, so limits still hold (each instance grants up to the full
 *    budget: effective limit × instance count) and nothing fails closed;
 *  - `allow`: fail open (no limiting during the outage);
 *  - `deny`: fail closed (every call refused with the budget being checked).
 */
export type LimitsStore =
  | { kind: 'memory' }
  | { kind: 'redis'; redis: Redis; keyPrefix?: string; onStoreDown?: 'insurance' | 'allow' | 'deny' };

export const rateLimiterFlexible = lazy<typeof import('rate-limiter-flexible')>('rate-limiter-flexible');

/** A memory limiter that reports each use: it only runs when the primary store failed. */
function insuranceLimiter(opts: IRateLimiterOptions, signal: DegradedSignal): RateLimiterMemory {
  const limiter = new (rateLimiterFlexible().RateLimiterMemory)(opts);
  const consume = limiter.consume.bind(limiter);
  limiter.consume = (...args) => {
    signal.fellBack('RedisUnavailable');
    return consume(...args);
  };
  return limiter;
}

export function createBucket(
  spec: BucketSpec,
  name: string,
  store: LimitsStore,
  signal: DegradedSignal,
): RateLimiterAbstract {
  if (!(spec.points > 0) || !(spec.perSeconds > 0)) {
    throw new RangeError(`rate limit "${name}" needs points > 0 and perSeconds > 0`);
  }
  const opts = { points: spec.points, duration: spec.perSeconds, keyPrefix: name };
  const { RateLimiterMemory, RateLimiterRedis } = rateLimiterFlexible();
  if (store.kind === 'memory') return new RateLimiterMemory(opts);
  const mode = store.onStoreDown ?? 'insurance';
  return new RateLimiterRedis({
    ...opts,
    keyPrefix: `${store.keyPrefix ?? 'mcptrail:'}${name}`,
    storeClient: store.redis,
    // Skip the round trip while disconnected: fall back at once instead of waiting on a dead socket.
    rejectIfRedisNotReady: true,
    insuranceLimiter: mode === 'insurance' ? insuranceLimiter(opts, signal) : undefined,
  });
}
