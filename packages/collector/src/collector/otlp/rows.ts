/**
 * OTLP spans to `otel_traces` rows, as the OpenTelemetry Collector ClickHouse
 * exporter writes them: Timestamp = start, Duration in ns, kind and status as
 * pdata strings (`Server`, `Error`), ServiceName from the resource's
 * `service.name`, attribute values as pdata's AsString with map keys sorted
 * (any-value.ts), empty or all-zero ids as `''`, events and links as Nested
 * arrays. The input has passed the shape check (JSON) or protobuf decoding.
 */
import { wellFormedJson } from '../processors/well-formed.js';
import { attributesJson, serviceNameOf } from './any-value.js';
import type { OtlpSpan, OtlpTracesRequest } from './types.js';
import { MAX_DATETIME64_NANOS, RowRejected, idToHex, nanosToDateTime64, toNanos } from './values.js';

/** pdata's SpanKind.String() and StatusCode.String(); an unknown number is `''`. */
const SPAN_KINDS = ['Unspecified', 'Internal', 'Server', 'Client', 'Producer', 'Consumer'] as const;
const STATUS_CODES = ['Unset', 'Ok', 'Error'] as const;

export interface SpanBatch {
  /** NDJSON, one row per accepted span. */
  ndjson: string;
  accepted: number;
  rejected: number;
  /** Why the first rejected span was rejected (for partialSuccess.errorMessage). */
  firstError?: string;
}

export function spansToRows(request: OtlpTracesRequest): SpanBatch {
  let ndjson = '';
  let accepted = 0;
  let rejected = 0;
  let firstError: string | undefined;
  for (const rs of request.resourceSpans ?? []) {
    const attributes = rs.resource?.attributes;
    const resourceJson = `,"ServiceName":${JSON.stringify(serviceNameOf(attributes))},"ResourceAttributes":${attributesJson(attributes)}`;
    for (const ss of rs.scopeSpans ?? []) {
      // The columns every span of this scope shares, serialised once.
      const shared = `${resourceJson},"ScopeName":${JSON.stringify(ss.scope?.name ?? '')},"ScopeVersion":${JSON.stringify(ss.scope?.version ?? '')}`;
      for (const span of ss.spans ?? []) {
        try {
          ndjson += wellFormedJson(spanRowJson(span, shared)) + '\n';
          accepted++;
        } catch (err) {
          if (!(err instanceof RowRejected)) throw err;
          rejected++;
          firstError ??= err.message;
        }
      }
    }
  }
  return { ndjson, accepted, rejected, firstError };
}

const NO_EVENTS_OR_LINKS = ',"Events.Timestamp":[],"Events.Name":[],"Events.Attributes":[],"Links.TraceId":[],"Links.SpanId":[],"Links.TraceState":[],"Links.Attributes":[]}';

/**
 * One `otel_traces` row as JSON, in column order. `shared` is the already
 * serialised ServiceName, ResourceAttributes, ScopeName and ScopeVersion
 * members, which every span of a scope repeats. Ids are lower-case hex and
 * timestamps digits, so they need no escaping.
 */
function spanRowJson(span: OtlpSpan, shared: string): string {
  const traceId = idToHex(span.traceId, 16);
  const spanId = idToHex(span.spanId, 8);
  // Empty ids are stored as '' (as the exporter does); a malformed span id cannot be stored as anything.
  if (traceId === undefined) throw new RowRejected('span has an invalid traceId (expected 16 bytes)');
  if (spanId === undefined) throw new RowRejected('span has an invalid spanId (expected 8 bytes)');
  const start = toNanos(span.startTimeUnixNano, MAX_DATETIME64_NANOS, 'span');
  const end = toNanos(span.endTimeUnixNano, MAX_DATETIME64_NANOS, 'span');
  const head =
    `{"Timestamp":"${nanosToDateTime64(start)}","TraceId":"${traceId}","SpanId":"${spanId}","ParentSpanId":"${idToHex(span.parentSpanId, 8) ?? ''}"` +
    `,"TraceState":${JSON.stringify(span.traceState ?? '')},"SpanName":${JSON.stringify(span.name ?? '')}` +
    `,"SpanKind":"${SPAN_KINDS[span.kind ?? 0] ?? ''}"${shared}` +
    `,"SpanAttributes":${attributesJson(span.attributes)},"Duration":"${(end > start ? end - start : 0n).toString()}"` +
    `,"StatusCode":"${STATUS_CODES[span.status?.code ?? 0] ?? ''}","StatusMessage":${JSON.stringify(span.status?.message ?? '')}`;
  const events = span.events ?? [];
  const links = span.links ?? [];
  if (events.length === 0 && links.length === 0) return head + NO_EVENTS_OR_LINKS;
  return (
    head +
    `,"Events.Timestamp":${JSON.stringify(events.map((e) => nanosToDateTime64(toNanos(e.timeUnixNano, MAX_DATETIME64_NANOS, 'span event'))))}` +
    `,"Events.Name":${JSON.stringify(events.map((e) => e.name ?? ''))}` +
    `,"Events.Attributes":[${events.map((e) => attributesJson(e.attributes)).join(',')}]` +
    // A malformed parent or link id is kept as '' rather than losing the span.
    `,"Links.TraceId":${JSON.stringify(links.map((l) => idToHex(l.traceId, 16) ?? ''))}` +
    `,"Links.SpanId":${JSON.stringify(links.map((l) => idToHex(l.spanId, 8) ?? ''))}` +
    `,"Links.TraceState":${JSON.stringify(links.map((l) => l.traceState ?? ''))}` +
    `,"Links.Attributes":[${links.map((l) => attributesJson(l.attributes)).join(',')}]}`
  );
}
