/** Collector: OTLP/HTTP traces and metrics and NDJSON records in, ClickHouse out, audit API on top. */
export { createCollector, type Collector, type CollectorOptions } from './app.js';
export { DEFAULT_BATCH, type BatchOptions } from './writer.js';
export { DEFAULT_BODY_LIMITS, type BodyLimits } from './body.js';
export { spansToRows } from './otlp/rows.js';
export { metricsToRows } from './otlp/metric-rows.js';
export { anyValueToString } from './otlp/any-value.js';
export { decodeTracesRequest, decodeMetricsRequest, otlpEncodingOf, type OtlpEncoding } from './otlp/decode.js';
export { parseReadTokens, readTokensFromEnv, type ReadScope } from './read-scope.js';
export { PipelineEventSchema, type PipelineEvent } from './processors/events.js';
export type { WriterStats } from './writer.js';
