export { startTelemetry, joinTelemetry, mcptrailSpanProcessor, mcptrailMetricReader, telemetryRunning } from './start.js';
export type { Telemetry, TelemetryOptions } from './start.js';
export { resolveTargets, DEFAULT_COLLECTOR_URL, DEFAULT_OTLP_ENDPOINT } from './targets.js';
export type { Targets, TargetOptions } from './targets.js';
export { createSpoolingSpanExporter } from './span-spool.js';
export type { SpoolingSpanExporter, SpoolingSpanExporterOptions } from './span-spool.js';
export { addMeterProvider, lazyInstruments } from './meters.js';
