export { startTelemetry, DEFAULT_OTLP_ENDPOINT } from './start.js';
export type { Telemetry, TelemetryOptions } from './start.js';
