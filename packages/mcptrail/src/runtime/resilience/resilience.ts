import { CircuitBreakers } from './breakers.js';
import type { RetrySafety } from './classify.js';
import { RetryPolicy, type RetryStats } from './retry.js';

export interface ResilientCall {
  tenantId: string;
  /** The upstream's name (one breaker per tenant × upstream). */
  upstream: string;
  safety: RetrySafety;
  remainingMs?: () => number;
  signal?: AbortSignal;
  stats?: RetryStats;
}

/**
 * Retry around breaker: every attempt passes the tenant's breaker, and an
 * open breaker (UpstreamUnavailableError) is never retried.
 */
export class Resilience {
  constructor(
    readonly retry: RetryPolicy = new RetryPolicy(),
    readonly breakers: CircuitBreakers = new CircuitBreakers(),
  ) {}

  execute<T>(call: ResilientCall, fn: (attempt: number) => Promise<T>): Promise<T> {
    return this.retry.execute((attempt) => this.breakers.execute(call.tenantId, call.upstream, () => fn(attempt)), call);
  }
}
