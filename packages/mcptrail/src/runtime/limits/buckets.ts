import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, type RateLimiterAbstract } from 'rate-limiter-flexible';
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

/** Memory limiter that reports each use: it only runs when the primary store failed. */
class InsuranceLimiter extends RateLimiterMemory {
  constructor(
    opts: ConstructorParameters<typeof RateLimiterMemory>[0],
    private readonly signal: DegradedSignal,
  ) {
    super(opts);
  }

  override consume(...args: Parameters<RateLimiterMemory['consume']>): ReturnType<RateLimiterMemory['consume']> {
    this.signal.fellBack('RedisUnavailable');
    return super.consume(...args);
  }
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
  if (store.kind === 'memory') return new RateLimiterMemory(opts);
  const mode = store.onStoreDown ?? 'insurance';
  return new RateLimiterRedis({
    ...opts,
    keyPrefix: `${store.keyPrefix ?? 'mcptrail:'}${name}`,
    storeClient: store.redis,
    // Skip the round trip while disconnected: fall back at once instead of waiting on a dead socket.
    rejectIfRedisNotReady: true,
    insuranceLimiter: mode === 'insurance' ? new InsuranceLimiter(opts, signal) : undefined,
  });
}
