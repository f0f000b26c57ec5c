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

export interface TraceReadOptions {
  /** Only this tenant's part of the trace (a tenant-scoped reader). */
  tenant?: string;
}

/** The span attribute instrument() puts the verified tenant in. */
export const TENANT_SPAN_ATTRIBUTE = 'mcptrail.tenant_id';

export async function getTrace(store: Store, traceId: string, opts: TraceReadOptions = {}): Promise<TraceView> {
  if (!isTraceId(traceId)) throw new RangeError('traceId must be 32 lowercase hex characters');
  const { tenant } = opts;
  const calls = await callsForTrace(store, traceId, undefined, tenant);
  // A tenant sees a trace only through its own calls: none, nothing (not even whether the trace exists).
  if (tenant !== undefined && calls.length === 0) return { traceId, spans: [], calls };
  const rows = await store.query<SpanRow>(SPANS_SQL, { traceId });
  const visible = tenant === undefined ? rows : tenantSubtree(rows, tenant, calls);
  return { traceId, spans: visible.map(toSpanView), calls };
}

/**
 * The spans of `tenant`'s calls and everything below them. A trace id comes
 * from the client's traceparent, so another tenant can share it: their calls'
 * spans (and the upstream requests under those) stay hidden.
 */
function tenantSubtree(rows: SpanRow[], tenant: string, calls: CallRecord[]): SpanRow[] {
  const allowed = new Set<string>(calls.map((c) => c.span_id).filter(Boolean));
  for (const r of rows) if (r.attributes?.[TENANT_SPAN_ATTRIBUTE] === tenant) allowed.add(r.spanId);
  for (const r of rows) {
    const owner = r.attributes?.[TENANT_SPAN_ATTRIBUTE];
    if (owner !== undefined && owner !== tenant) allowed.delete(r.spanId);
  }
  // Descendants, to a fixed point (spans are few; parents usually precede children in time order).
  let grew = true;
  while (grew) {
    grew = false;
    for (const r of rows) {
      if (allowed.has(r.spanId) || !allowed.has(r.parentSpanId)) continue;
      const owner = r.attributes?.[TENANT_SPAN_ATTRIBUTE];
      if (owner !== undefined && owner !== tenant) continue;
      allowed.add(r.spanId);
      grew = true;
    }
  }
  return rows.filter((r) => allowed.has(r.spanId));
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
