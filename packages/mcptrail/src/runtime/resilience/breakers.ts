import type { CircuitBreakerPolicy, CircuitState, IBreaker } from 'cockatiel';
import { cockatiel } from './cockatiel.js';
import { UpstreamUnavailableError } from './errors.js';
import { isBreakerFailure } from './failures.js';

export type BreakerState = 'closed' | 'open' | 'half_open' | 'isolated';

export interface BreakerStateChange {
  tenantId: string;
  upstream: string;
  state: BreakerState;
}

export interface CircuitBreakersOptions {
  /** Consecutive upstream failures (5xx, network, timeout) that open a breaker. Default 5. */
  threshold?: number;
  /** Open → half-open after this long; one probe call then decides. Default 30 s. */
  halfOpenAfterMs?: number;
  /** Another breaker strategy (e.g. cockatiel's SamplingBreaker); one instance is made per key. */
  breaker?: () => IBreaker;
  /** Breakers kept; the least recently used beyond this are dropped (they restart closed). Default 10 000. */
  maxKeys?: number;
  /** For "breaker opened" dashboards and alerts. */
  onStateChange?: (change: BreakerStateChange) => void;
}

let stateNames: Record<CircuitState, BreakerState> | undefined;
function stateName(state: CircuitState): BreakerState {
  const { CircuitState: S } = cockatiel();
  stateNames ??= { [S.Closed]: 'closed', [S.Open]: 'open', [S.HalfOpen]: 'half_open', [S.Isolated]: 'isolated' } as Record<CircuitState, BreakerState>;
  return stateNames[state];
}

/**
 * One breaker per tenant × upstream, so one tenant's broken integration
 * (revoked app, misconfigured instance) never opens the circuit for others.
 */
export class CircuitBreakers {
  private readonly breakers = new Map<string, CircuitBreakerPolicy>();
  private readonly halfOpenAfterMs: number;
  private readonly maxKeys: number;

  constructor(private readonly options: CircuitBreakersOptions = {}) {
    this.halfOpenAfterMs = options.halfOpenAfterMs ?? 30_000;
    this.maxKeys = options.maxKeys ?? 10_000;
  }

  /** Runs `fn` through the tenant × upstream breaker; an open breaker throws UpstreamUnavailableError without calling it. */
  async execute<T>(tenantId: string, upstream: string, fn: () => Promise<T>): Promise<T> {
    const breaker = this.breakerFor(tenantId, upstream);
    try {
      return await breaker.execute(fn);
    } catch (err) {
      if (err instanceof cockatiel().BrokenCircuitError) {
        throw new UpstreamUnavailableError(upstream, tenantId, Math.max(1, Math.ceil(this.halfOpenAfterMs / 1000)));
      }
      throw err;
    }
  }

  state(tenantId: string, upstream: string): BreakerState {
    const b = this.breakers.get(keyOf(tenantId, upstream));
    return b ? stateName(b.state) : 'closed';
  }

  get size(): number {
    return this.breakers.size;
  }

  private breakerFor(tenantId: string, upstream: string): CircuitBreakerPolicy {
    const key = keyOf(tenantId, upstream);
    let b = this.breakers.get(key);
    if (b) {
      // Re-insert: Map order is the LRU order.
      this.breakers.delete(key);
      this.breakers.set(key, b);
      return b;
    }
    const { circuitBreaker, handleWhen, ConsecutiveBreaker } = cockatiel();
    b = circuitBreaker(handleWhen(isBreakerFailure), {
      halfOpenAfter: this.halfOpenAfterMs,
      breaker: this.options.breaker?.() ?? new ConsecutiveBreaker(this.options.threshold ?? 5),
    });
    const onChange = this.options.onStateChange;
    if (onChange) b.onStateChange((s) => onChange({ tenantId, upstream, state: stateName(s) }));
    this.breakers.set(key, b);
    if (this.breakers.size > this.maxKeys) this.breakers.delete(this.breakers.keys().next().value!);
    return b;
  }
}

const keyOf = (tenantId: string, upstream: string) => `${tenantId}\u0000${upstream}`;
