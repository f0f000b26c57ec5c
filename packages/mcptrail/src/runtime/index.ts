export { Deadline, DEFAULT_BUDGET_MS, DEFAULT_RESERVE_MS } from './deadline.js';
export { createUpstreamClient } from './upstream-client.js';
export type {
  UpstreamClient,
  UpstreamClientOptions,
  UpstreamRequest,
  UpstreamResponse,
  QueryValue,
  PathParams,
} from './upstream-client.js';
export { UpstreamError, UpstreamNetworkError, UpstreamResponseTooLargeError, UpstreamTimeoutError } from './errors.js';
export { sanitizeUrl, redactPath } from './url.js';
export { createRedis, redisReady, closeRedis, DEFAULT_REDIS_URL, StoreUnavailableError, type CreateRedisOptions, type Redis } from './redis.js';
export {
  RateLimits,
  MemoryConcurrencyCap,
  RedisConcurrencyCap,
  rateLimitedResult,
  permanentDenyResult,
  httpRetryAfter,
  type RateLimitsOptions,
  type LimitsStore,
  type LimitsConfig,
  type LimitsEvent,
  type LimitDecision,
  type RateLimited,
  type PermanentlyDenied,
  type ConcurrencyCap,
  type BucketSpec,
  type DenyPolicy,
} from './limits/index.js';
export {
  IdempotencyStore,
  memoryIdempotencyStore,
  fileIdempotencyStore,
  redisIdempotencyStore,
  IdempotencyConflictError,
  IdempotencyWaitTimeoutError,
  DEFAULT_RESULT_TTL_MS,
  type IdempotencyStoreOptions,
  type BegunInterrupted,
} from './idempotency/index.js';
export {
  CredentialStore,
  memoryCredentialStore,
  redisCredentialStore,
  CredentialError,
  RefreshError,
  type RefreshFn,
  type TokenSet,
  type CredentialEvent,
  type RefreshFailureReason,
} from './credentials/index.js';
export {
  RetryPolicy,
  CircuitBreakers,
  UpstreamUnavailableError,
  type RetryOptions,
  type CircuitBreakersOptions,
  type BreakerStateChange,
} from './resilience/index.js';
export { Jobs, JobCancelledError, JobLimitError, type JobsOptions, type JobStartOptions, type JobStatus } from './jobs/index.js';
