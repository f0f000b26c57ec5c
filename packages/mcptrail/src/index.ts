/**
 * mcptrail's library surface: what a server author imports.
 *
 *   import { instrument } from 'mcptrail';
 *   instrument(server);            // any host: stdio, node:http/express, createMcpHandler
 *
 * The fastify plugin and createMcpHttpApp are in `mcptrail/fastify` (fastify
 * is an optional peer); the collector, store and audit queries are the
 * `@mcptrail/collector` package and its `mcptrail` CLI.
 */
export {
  instrument,
  instrumentationFor,
  createInstrumentation,
  flush,
  shutdown,
  SdkShapeError,
  registerJobTool,
  jobToolPolicies,
  limitsEventLogger,
  unwrapUntrusted,
  IDEMPOTENCY_META_KEYS,
  IDEMPOTENCY_ARGUMENT_KEY,
  INTENT_META_KEY,
  INTENT_ARGUMENT,
} from './instrument/index.js';
export type {
  InstrumentOptions,
  Instrumentation,
  McpServerLike,
  AnyMcpServer,
  AuthInfoLike,
  PrincipalInit,
  IdentityOptions,
  ToolPolicy,
  OutputPolicy,
  IntentPolicy,
  JobToolSpec,
} from './instrument/index.js';

export { createAuthenticator, AuthError, protectedResourceMetadata, wwwAuthenticate } from './auth/index.js';
export type { Authenticator, AuthenticatorOptions, Principal } from './auth/index.js';

export { currentCall } from './context/index.js';
export type { CallContext } from './context/index.js';

export {
  Deadline,
  createUpstreamClient,
  UpstreamError,
  UpstreamNetworkError,
  UpstreamResponseTooLargeError,
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

export { startTelemetry, joinTelemetry, mcptrailSpanProcessor, mcptrailMetricReader } from './telemetry/index.js';
export type { Telemetry, TelemetryOptions } from './telemetry/index.js';
