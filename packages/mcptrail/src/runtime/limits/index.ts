export { RateLimits, type RateLimitsOptions } from './rate-limits.js';
export type { LimitsStore } from './buckets.js';
export {
  MemoryConcurrencyCap,
  RedisConcurrencyCap,
  type ConcurrencyCap,
  type ConcurrencyDecision,
  type ConcurrencyGrant,
  type RedisConcurrencyCapOptions,
} from './concurrency.js';
export { rateLimitedResult, permanentDenyResult, httpRetryAfter, type ToolErrorResult, type HttpRefusal } from './answers.js';
export type {
  Allowed,
  BucketSpec,
  DenyPolicy,
  LimitDecision,
  LimitsConfig,
  LimitsEvent,
  LimitSubject,
  PermanentlyDenied,
  RateBudget,
  RateLimited,
} from './types.js';
