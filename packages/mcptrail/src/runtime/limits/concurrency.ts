import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { DegradedSignal } from './degraded.js';
import type { LimitsEvent, RateLimited } from './types.js';

export interface ConcurrencyGrant {
  allowed: true;
  /** Idempotent: calling it twice frees one slot. */
  release(): void;
}

export type ConcurrencyDecision = ConcurrencyGrant | RateLimited;

export interface ConcurrencyCap {
  acquire(tenantId: string): Promise<ConcurrencyDecision>;
  /** True while a shared store is failing and decisions are per instance. */
  readonly degraded?: boolean;
}

/** Refusals suggest a short wait: in-flight calls end within their budgets. */
const REFUSED: RateLimited = Object.freeze({
  allowed: false,
  permanent: false,
  budget: 'concurrency',
  retryAfterSeconds: 1,
}) as RateLimited;

/** In-flight calls per tenant, per process. */
export class MemoryConcurrencyCap implements ConcurrencyCap {
  private readonly inFlight = new Map<string, number>();

  constructor(private readonly maxInFlight: number) {
    if (!(maxInFlight >= 1)) throw new RangeError('maxInFlight must be >= 1');
  }

  async acquire(tenantId: string): Promise<ConcurrencyDecision> {
    return this.tryAcquire(tenantId);
  }

  /** Synchronous variant for callers that want no extra tick. */
  tryAcquire(tenantId: string): ConcurrencyDecision {
    const n = this.inFlight.get(tenantId) ?? 0;
    if (n >= this.maxInFlight) return REFUSED;
    this.inFlight.set(tenantId, n + 1);
    let released = false;
    return {
      allowed: true,
      release: () => {
        if (released) return;
        released = true;
        const left = (this.inFlight.get(tenantId) ?? 1) - 1;
        if (left <= 0) this.inFlight.delete(tenantId);
        else this.inFlight.set(tenantId, left);
      },
    };
  }

  inFlightFor(tenantId: string): number {
    return this.inFlight.get(tenantId) ?? 0;
  }
}

/*
 * Leases in a sorted set scored by expiry (Redis clock, so instance clocks
 * don't matter). Expired leases are dropped first, so a crashed instance's
 * slots come back after `leaseMs` instead of leaking forever.
 */
const ACQUIRE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1`;

export interface RedisConcurrencyCapOptions {
  redis: Redis;
  maxInFlight: number;
  keyPrefix?: string;
  /** A slot is reclaimed after this long even if never released; keep it above the longest call budget. */
  leaseMs?: number;
  onEvent?: (event: LimitsEvent) => void;
}

/**
 * In-flight calls per tenant across instances. While Redis is down it falls
 * back to a per-instance cap of the same size (reported as degraded).
 */
export class RedisConcurrencyCap implements ConcurrencyCap {
  private readonly fallback: MemoryConcurrencyCap;
  private readonly signal: DegradedSignal;
  private readonly leaseMs: number;

  constructor(private readonly options: RedisConcurrencyCapOptions) {
    this.fallback = new MemoryConcurrencyCap(options.maxInFlight);
    this.signal = new DegradedSignal(options.onEvent);
    this.leaseMs = options.leaseMs ?? 120_000;
  }

  get degraded(): boolean {
    return this.signal.degraded;
  }

  async acquire(tenantId: string): Promise<ConcurrencyDecision> {
    const { redis } = this.options;
    const key = `${this.options.keyPrefix ?? 'mcptrail:'}cc:${encodeURIComponent(tenantId)}`;
    const lease = randomUUID();
    let granted: unknown;
    try {
      granted = await redis.eval(ACQUIRE, 1, key, this.options.maxInFlight, this.leaseMs, lease);
    } catch (err) {
      this.signal.fellBack((err as Error)?.name ?? 'Error');
      return this.fallback.tryAcquire(tenantId);
    }
    this.signal.storeAnswered();
    if (granted !== 1) return REFUSED;
    let released = false;
    return {
      allowed: true,
      release: () => {
        if (released) return;
        released = true;
        // Best effort: a lost release is reclaimed when the lease expires.
        redis.zrem(key, lease).catch(() => undefined);
      },
    };
  }
}
