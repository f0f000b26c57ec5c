/**
 * mcptrail's library surface: what a server author imports. The collector,
 * store and audit queries run through the `mcptrail` CLI; the rest is here.
 */
export {
  instrument,
  createMcpHttpApp,
  registerJobTool,
  jobToolPolicies,
  limitsEventLogger,
  unwrapUntrusted,
  IDEMPOTENCY_META_KEYS,
  IDEMPOTENCY_ARGUMENT_KEY,
} from './instrument/index.js';
export type { InstrumentOptions, McpHttpAppOptions, ToolPolicy, OutputPolicy, JobToolSpec } from './instrument/index.js';

export { createAuthenticator, AuthError, protectedResourceMetadata, wwwAuthenticate } from './auth/index.js';
export type { Authenticator, AuthenticatorOptions, Principal } from './auth/index.js';

export { currentCall } from './context/index.js';
export type { CallContext } from './context/index.js';

export {
  Deadline,
  createUpstreamClient,
  UpstreamError,
  UpstreamNetworkError,
  UpstreamTimeoutError,
  UpstreamUnavailableError,
  createRedis,
  closeRedis,
  RateLimits,
  MemoryConcurrencyCap,
  RedisConcurrencyCap,
  memoryIdempotencyStore,
  fileIdempotencyStore,
  redisIdempotencyStore,
  memoryCredentialStore,
  redisCredentialStore,
  CredentialError,
  RefreshError,
  RetryPolicy,
  CircuitBreakers,
  Jobs,
} from './runtime/index.js';
export type {
  UpstreamClient,
  UpstreamClientOptions,
  UpstreamRequest,
  UpstreamResponse,
  LimitsConfig,
  LimitDecision,
  RefreshFn,
  TokenSet,
} from './runtime/index.js';

export { CallRecordSchema, OUTCOMES, summarizeArgs, createLogger, createRecordSink, createShipper } from './record/index.js';
export type { CallRecord, Outcome, RecordSink, Shipper, ShipperOptions } from './record/index.js';

export { startTelemetry } from './telemetry/index.js';
export type { Telemetry, TelemetryOptions } from './telemetry/index.js';
