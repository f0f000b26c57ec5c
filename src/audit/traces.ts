/** One trace's spans (otel_traces) and its audit records, for `mcptrail trace` and `/api/traces/:id`. */
import type { CallRecord } from '../record/schema.js';
import { TABLES, type Store } from '../store/index.js';
import { callsForTrace } from './calls.js';
import { isTraceId } from './filters.js';

export interface SpanEventView {
  name: string;
  time: string;
  attributes: Record<string, string>;
}

export interface SpanView {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  /** `Server`, `Client`, `Internal`, `Producer`, `Consumer` or `Unspecified`, as the exporter schema stores it. */
  kind: string;
  serviceName: string;
  /** ISO 8601, millisecond precision. */
  startTime: string;
  durationMs: number;
  /** `Unset`, `Ok` or `Error`. */
  statusCode: string;
  statusMessage: string;
  attributes: Record<string, string>;
  events: SpanEventView[];
}

export interface TraceView {
  traceId: string;
  spans: SpanView[];
  calls: CallRecord[];
}

interface SpanRow {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: string;
  serviceName: string;
  startMs: number;
  durationNs: number;
  statusCode: string;
  statusMessage: string;
  attributes: Record<string, string>;
  eventNames: string[];
  eventMs: number[];
  eventAttributes: Record<string, string>[];
}

/**
 * The two-step lookup of the exporter schema: the trace's time bounds from
 * `otel_traces_trace_id_ts` first, so the span read prunes partitions and
 * granules by time instead of scanning for the id.
 */
const SPANS_SQL = `
WITH
    {traceId:String} AS trace_id,
    (SELECT min(Start) FROM ${TABLES.otelTracesTraceIdTs} WHERE TraceId = trace_id) AS trace_start,
    (SELECT max(End) + 1 FROM ${TABLES.otelTracesTraceIdTs} WHERE TraceId = trace_id) AS trace_end
SELECT
    TraceId AS traceId,
    SpanId AS spanId,
    ParentSpanId AS parentSpanId,
    SpanName AS name,
    SpanKind AS kind,
    ServiceName AS serviceName,
    toUnixTimestamp64Milli(Timestamp) AS startMs,
    Duration AS durationNs,
    StatusCode AS statusCode,
    StatusMessage AS statusMessage,
    SpanAttributes AS attributes,
    Events.Name AS eventNames,
    arrayMap(t -> toUnixTimestamp64Milli(t), Events.Timestamp) AS eventMs,
    Events.Attributes AS eventAttributes
FROM ${TABLES.otelTraces}
WHERE TraceId = trace_id AND Timestamp >= trace_start AND Timestamp <= trace_end
ORDER BY Timestamp, SpanId
LIMIT 10000`;

export async function getTrace(store: Store, traceId: string): Promise<TraceView> {
  if (!isTraceId(traceId)) throw new RangeError('traceId must be 32 lowercase hex characters');
  const [rows, calls] = await Promise.all([store.query<SpanRow>(SPANS_SQL, { traceId }), callsForTrace(store, traceId)]);
  return { traceId, spans: rows.map(toSpanView), calls };
}

function toSpanView(r: SpanRow): SpanView {
  return {
    traceId: r.traceId,
    spanId: r.spanId,
    parentSpanId: r.parentSpanId,
    name: r.name,
    kind: r.kind,
    serviceName: r.serviceName,
    startTime: new Date(Number(r.startMs)).toISOString(),
    durationMs: Number(r.durationNs) / 1e6,
    statusCode: r.statusCode,
    statusMessage: r.statusMessage,
    attributes: r.attributes,
    events: r.eventNames.map((name, i) => ({
      name,
      time: new Date(Number(r.eventMs[i])).toISOString(),
      attributes: r.eventAttributes[i] ?? {},
    })),
  };
}
