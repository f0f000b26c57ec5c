import type { ExponentialBackoff, IBackoff } from 'cockatiel';
import { cockatiel } from './cockatiel.js';
import type { RetrySafety } from './classify.js';
import { failureOf, isRetryableFailure } from './failures.js';

export interface RetryOptions {
  /** Total attempts, first included. Default 3. */
  maxAttempts?: number;
  /** Full-jitter exponential backoff: delay ∈ [0, min(maxDelayMs, baseDelayMs · 2^n)). */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Time kept to answer the agent: no retry whose wait + reserve exceeds the remaining budget. Default 250 ms. */
  reserveMs?: number;
  /** A Retry-After longer than this is not waited for: the failure goes back to the agent. Default 30 s. */
  maxRetryAfterMs?: number;
}

/** Filled in by `execute`, for the CallRecord (`upstream_retries`) and the span. */
export interface RetryStats {
  retries: number;
  /** Why the last failure was not retried. */
  stoppedBy?: 'not_retry_safe' | 'not_retryable' | 'max_attempts' | 'deadline' | 'retry_after_too_long';
}

export interface ExecuteOptions {
  safety: RetrySafety;
  /** The call's remaining budget (e.g. `() => deadline.remainingMs()`). */
  remainingMs?: () => number;
  signal?: AbortSignal;
  stats?: RetryStats;
}

export const newRetryStats = (): RetryStats => ({ retries: 0 });

/**
 * cockatiel's retry, with three decisions made per failure: is the call safe
 * to repeat, is this failure worth repeating, and does the wait (Retry-After
 * when the upstream sent one, full jitter otherwise) fit in the deadline.
 */
export class RetryPolicy {
  private readonly maxAttempts: number;
  private readonly reserveMs: number;
  private readonly maxRetryAfterMs: number;
  private readonly jitter: ExponentialBackoff<number>;

  constructor(options: RetryOptions = {}) {
    this.maxAttempts = Math.max(1, options.maxAttempts ?? 3);
    this.reserveMs = options.reserveMs ?? 250;
    this.maxRetryAfterMs = options.maxRetryAfterMs ?? 30_000;
    const { ExponentialBackoff, fullJitterGenerator } = cockatiel();
    this.jitter = new ExponentialBackoff({
      generator: fullJitterGenerator,
      initialDelay: options.baseDelayMs ?? 200,
      maxDelay: options.maxDelayMs ?? 4_000,
    });
  }

  async execute<T>(fn: (attempt: number) => Promise<T>, options: ExecuteOptions): Promise<T> {
    const stats = options.stats ?? newRetryStats();
    let failures = 0;
    let jitter: IBackoff<unknown> | undefined;
    let nextDelayMs = 0;

    // Decides, and computes the wait, in one place; cockatiel then sleeps and repeats.
    const shouldRetry = (err: Error): boolean => {
      failures++;
      if (!options.safety.retrySafe) return stop(stats, 'not_retry_safe');
      const failure = failureOf(err);
      if (!isRetryableFailure(failure)) return stop(stats, 'not_retryable');
      if (failures >= this.maxAttempts) return stop(stats, 'max_attempts');
      jitter = jitter ? jitter.next(undefined) : this.jitter.next();
      let delay = jitter.duration;
      if (failure.retryAfterMs !== undefined) {
        if (failure.retryAfterMs > this.maxRetryAfterMs) return stop(stats, 'retry_after_too_long');
        delay = failure.retryAfterMs;
      }
      if (options.remainingMs && delay + this.reserveMs >= options.remainingMs()) return stop(stats, 'deadline');
      nextDelayMs = delay;
      return true;
    };

    const { retry, handleWhen, DelegateBackoff } = cockatiel();
    const policy = retry(handleWhen(shouldRetry), {
      maxAttempts: this.maxAttempts - 1,
      backoff: new DelegateBackoff(() => nextDelayMs),
    });
    const listener = policy.onRetry(() => {
      stats.retries++;
    });
    try {
      return await policy.execute(({ attempt }) => fn(attempt), options.signal);
    } finally {
      listener.dispose();
    }
  }
}

function stop(stats: RetryStats, why: NonNullable<RetryStats['stoppedBy']>): false {
  stats.stoppedBy = why;
  return false;
}
