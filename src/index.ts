/**
 * mcptrail's library surface: what a server author imports. The collector,
 * store and audit queries are exported for embedding and tests; most users
 * run them through the `mcptrail` CLI.
 */
export { instrument, createMcpHttpApp } from './instrument/index.js';
export type { InstrumentOptions, McpHttpAppOptions, ToolPolicy } from './instrument/index.js';

export { createAuthenticator, AuthError, protectedResourceMetadata, wwwAuthenticate } from './auth/index.js';
export type { Authenticator, AuthenticatorOptions, Principal } from './auth/index.js';

export { currentCall } from './context/index.js';
export type { CallContext } from './context/index.js';

export { Deadline, createUpstreamClient, UpstreamError, UpstreamNetworkError, UpstreamTimeoutError } from './runtime/index.js';
export type { UpstreamClient, UpstreamClientOptions, UpstreamRequest, UpstreamResponse } from './runtime/index.js';

export { CallRecordSchema, OUTCOMES, summarizeArgs, createLogger, createRecordSink, createShipper } from './record/index.js';
export type { CallRecord, Outcome, RecordSink, Shipper, ShipperOptions } from './record/index.js';

export { startTelemetry } from './telemetry/index.js';
export type { Telemetry, TelemetryOptions } from './telemetry/index.js';
