/** One trace's spans (otel_traces) and its audit records, for `mcptrail trace` and `/api/traces/:id`. */
import type { CallRecord } from 'mcptrail/record';
import { TABLES, type Store } from '../store/index.js';
import { callsForTrace, type TimeWindowMs } from './calls.js';
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

/** At most this many spans per trace; a trace cut at the limit reads its calls without a time window. */
const SPAN_LIMIT = 10_000;

/**
 * The two-step lookup of the exporter schema: the trace's time bounds from
 * `otel_traces_trace_id_ts` first (one scalar subquery), so the span read
 * prunes partitions and granules by time instead of scanning for the id.
 */
const SPANS_SQL = `
WITH
    {traceId:String} AS trace_id,
    (SELECT (min(Start), max(End) + 1) FROM ${TABLES.otelTracesTraceIdTs} WHERE TraceId = trace_id) AS trace_bounds
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
WHERE TraceId = trace_id AND Timestamp >= trace_bounds.1 AND Timestamp <= trace_bounds.2
ORDER BY Timestamp, SpanId
LIMIT ${SPAN_LIMIT}`;

/**
 * How far outside its spans' time range a call of the trace is still looked
 * for. A record's `ts` and its SERVER span's start are the same instant on the
 * same clock; the slack covers spans from other services (clock skew) and
 * calls whose own spans were lost while the rest of the trace's were stored.
 */
export const TRACE_CALLS_SLACK_MS = 3_600_000;

export interface TraceReadOptions {
  /** Only this tenant's part of the trace (a tenant-scoped reader). */
  tenant?: string;
}

/** The span attribute instrument() puts the verified tenant in. */
export const TENANT_SPAN_ATTRIBUTE = 'mcptrail.tenant_id';

export async function getTrace(store: Store, traceId: string, opts: TraceReadOptions = {}): Promise<TraceView> {
  if (!isTraceId(traceId)) throw new RangeError('traceId must be 32 lowercase hex characters');
  const { tenant } = opts;
  // Spans first: their time range bounds the read of the calls, which then prunes tool_calls'
  // daily partitions instead of checking every partition's trace-id bloom filter. No spans (not
  // exported, or expired sooner than records) or a trace cut at SPAN_LIMIT: no bound.
  const rows = await store.query<SpanRow>(SPANS_SQL, { traceId });
  const window = rows.length > 0 && rows.length < SPAN_LIMIT ? spanWindow(rows, TRACE_CALLS_SLACK_MS) : undefined;
  const calls = await callsForTrace(store, traceId, undefined, tenant, window);
  // A tenant sees a trace only through its own calls: none, nothing (not even whether the trace exists).
  if (tenant !== undefined && calls.length === 0) return { traceId, spans: [], calls };
  const visible = tenant === undefined ? rows : tenantSubtree(rows, tenant, calls);
  return { traceId, spans: visible.map(toSpanView), calls };
}

/** From the earliest span start to the latest span end, widened by `slackMs` on both sides. */
function spanWindow(rows: SpanRow[], slackMs: number): TimeWindowMs | undefined {
  let from = Infinity;
  let to = -Infinity;
  for (const r of rows) {
    const start = Number(r.startMs);
    from = Math.min(from, start);
    to = Math.max(to, start + Math.max(0, Number(r.durationNs) / 1e6));
  }
  return Number.isFinite(from) && Number.isFinite(to) ? { fromMs: from - slackMs, toMs: to + slackMs } : undefined;
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
