import type { RateLimiterAbstract } from 'rate-limiter-flexible';
import { createBucket, rateLimiterFlexible, type LimitsStore } from './buckets.js';
import { DegradedSignal } from './degraded.js';
import {
  isBucketSpec,
  type DenyPolicy,
  type LimitDecision,
  type LimitsConfig,
  type LimitsEvent,
  type LimitSubject,
  type RateLimited,
} from './types.js';

export interface RateLimitsOptions {
  store?: LimitsStore;
  /** Checked before any budget; a reason denies the call permanently. */
  deny?: DenyPolicy;
  onEvent?: (event: LimitsEvent) => void;
}

type Budget = 'agent' | 'tool' | 'tenant';

const ALLOWED: LimitDecision = Object.freeze({ allowed: true });

/** Key parts are encoded so `a:b` + `c` never collides with `a` + `b:c`. */
const part = (s: string) => encodeURIComponent(s);

/**
 * Composed budgets per agent (`tenant:agent`), per tool (`tenant:tool`) and per
 * tenant (`tenant`). Buckets are taken in that order; a refusal refunds the
 * points already taken, so a refused call costs nothing in the other budgets.
 */
export class RateLimits {
  private readonly signal: DegradedSignal;
  private readonly agent?: RateLimiterAbstract;
  private readonly tenant?: RateLimiterAbstract;
  private readonly toolAll?: RateLimiterAbstract;
  private readonly toolByName = new Map<string, RateLimiterAbstract>();
  private readonly store: LimitsStore;

  constructor(
    config: LimitsConfig,
    private readonly options: RateLimitsOptions = {},
  ) {
    this.store = options.store ?? { kind: 'memory' };
    this.signal = new DegradedSignal(options.onEvent);
    const make = (spec: Parameters<typeof createBucket>[0], name: string) =>
      createBucket(spec, name, this.store, this.signal);
    if (config.agent) this.agent = make(config.agent, 'rl:agent');
    if (config.tenant) this.tenant = make(config.tenant, 'rl:tenant');
    if (isBucketSpec(config.tool)) this.toolAll = make(config.tool, 'rl:tool');
    else if (config.tool) {
      for (const [name, spec] of Object.entries(config.tool)) {
        this.toolByName.set(name, make(spec, `rl:tool:${part(name)}`));
      }
    }
  }

  /** True while the shared store is failing and decisions are per instance (or fail open/closed). */
  get degraded(): boolean {
    return this.signal.degraded;
  }

  /** Decisions taken without the shared store since start. */
  get fallbackDecisions(): number {
    return this.signal.fallbackDecisions;
  }

  async take(subject: LimitSubject): Promise<LimitDecision> {
    if (this.options.deny) {
      const reason = await this.options.deny(subject);
      if (reason) return { allowed: false, permanent: true, reason };
    }
    const tenant = part(subject.tenantId);
    const steps: Array<[Budget, RateLimiterAbstract | undefined, string]> = [
      ['agent', this.agent, `${tenant}:${part(subject.agentId)}`],
      ['tool', this.toolByName.get(subject.tool) ?? this.toolByName.get('*') ?? this.toolAll, `${tenant}:${part(subject.tool)}`],
      ['tenant', this.tenant, tenant],
    ];
    const taken: Array<[RateLimiterAbstract, string]> = [];
    for (const [budget, bucket, key] of steps) {
      if (!bucket) continue;
      const refusal = await this.consume(budget, bucket, key);
      if (refusal) {
        // A refund lost to a store error over-charges one point until the bucket refills; store failures are reported by the degraded signal.
        await Promise.all(taken.map(([b, k]) => b.reward(k, 1).catch(() => undefined)));
        return refusal;
      }
      taken.push([bucket, key]);
    }
    return ALLOWED;
  }

  /** undefined = a point was taken. */
  private async consume(budget: Budget, bucket: RateLimiterAbstract, key: string): Promise<RateLimited | undefined> {
    const before = this.signal.fallbackDecisions;
    try {
      await bucket.consume(key, 1);
      if (this.signal.fallbackDecisions === before) this.signal.storeAnswered();
      return undefined;
    } catch (err) {
      if (err instanceof rateLimiterFlexible().RateLimiterRes) {
        if (this.signal.fallbackDecisions === before) this.signal.storeAnswered();
        return refusal(budget, err.msBeforeNext);
      }
      // Only reachable for Redis with onStoreDown 'allow' | 'deny' (insurance swallows store errors).
      this.signal.fellBack((err as Error)?.name ?? 'Error');
      if (this.store.kind === 'redis' && this.store.onStoreDown === 'allow') return undefined;
      return refusal(budget, 1_000);
    }
  }
}

function refusal(budget: Budget, msBeforeNext: number): RateLimited {
  return { allowed: false, permanent: false, budget, retryAfterSeconds: Math.max(1, Math.ceil(msBeforeNext / 1000)) };
}
