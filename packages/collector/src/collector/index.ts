/** Collector: OTLP/HTTP traces and NDJSON records in, ClickHouse out, audit API on top. */
export { createCollector, type Collector, type CollectorOptions } from './app.js';
export { DEFAULT_BATCH, type BatchOptions } from './writer.js';
export { DEFAULT_BODY_LIMITS, type BodyLimits } from './body.js';
export { spansToRows, type OtelTraceRow } from './otlp/rows.js';
export { decodeTracesRequest, otlpEncodingOf, type OtlpEncoding } from './otlp/decode.js';
export { parseReadTokens, readTokensFromEnv, type ReadScope } from './read-scope.js';
export { PipelineEventSchema, type PipelineEvent } from './processors/events.js';
export type { WriterStats } from './writer.js';
