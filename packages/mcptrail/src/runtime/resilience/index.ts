export { classify, type CallClass, type RetrySafety } from './classify.js';
export { RetryPolicy, newRetryStats, type ExecuteOptions, type RetryOptions, type RetryStats } from './retry.js';
export { CircuitBreakers, type BreakerState, type BreakerStateChange, type CircuitBreakersOptions } from './breakers.js';
export { UpstreamUnavailableError } from './errors.js';
export { RETRYABLE_STATUSES, failureOf, isBreakerFailure, isRetryableFailure, parseRetryAfter, type Failure, type FailureKind } from './failures.js';
export { Resilience, type ResilientCall } from './resilience.js';
