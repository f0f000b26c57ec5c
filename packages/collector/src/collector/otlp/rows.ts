/**
 * OTLP spans to `otel_traces` rows, as the OpenTelemetry Collector ClickHouse
 * exporter writes them: Timestamp = start, Duration in ns, kind and status as
 * pdata strings (`Server`, `Error`), ServiceName from the resource's
 * `service.name`, attribute values as pdata's AsString (ints decimal, bools
 * `true`/`false`, bytes base64, arrays and maps JSON), events and links as
 * Nested arrays.
 */
import { wellFormedJson } from '../processors/well-formed.js';
import type { AnyValue, Bytes, Int64, KeyValue, OtlpSpan, OtlpTracesRequest } from './types.js';

const SPAN_KINDS = ['Unspecified', 'Internal', 'Server', 'Client', 'Producer', 'Consumer'] as const;
const SPAN_KIND_NAMES: Record<string, number> = {
  SPAN_KIND_UNSPECIFIED: 0,
  SPAN_KIND_INTERNAL: 1,
  SPAN_KIND_SERVER: 2,
  SPAN_KIND_CLIENT: 3,
  SPAN_KIND_PRODUCER: 4,
  SPAN_KIND_CONSUMER: 5,
};
const STATUS_CODES = ['Unset', 'Ok', 'Error'] as const;
const STATUS_CODE_NAMES: Record<string, number> = { STATUS_CODE_UNSET: 0, STATUS_CODE_OK: 1, STATUS_CODE_ERROR: 2 };

export interface OtelTraceRow {
  Timestamp: string;
  TraceId: string;
  SpanId: string;
  ParentSpanId: string;
  TraceState: string;
  SpanName: string;
  SpanKind: string;
  ServiceName: string;
  ResourceAttributes: Record<string, string>;
  ScopeName: string;
  ScopeVersion: string;
  SpanAttributes: Record<string, string>;
  Duration: string;
  StatusCode: string;
  StatusMessage: string;
  'Events.Timestamp': string[];
  'Events.Name': string[];
  'Events.Attributes': Record<string, string>[];
  'Links.TraceId': string[];
  'Links.SpanId': string[];
  'Links.TraceState': string[];
  'Links.Attributes': Record<string, string>[];
}

export interface SpanBatch {
  /** NDJSON, one row per accepted span. */
  ndjson: string;
  accepted: number;
  rejected: number;
  /** Why the first rejected span was rejected (for partialSuccess.errorMessage). */
  firstError?: string;
}

export class SpanRejected extends Error {
  override readonly name = 'SpanRejected';
}

export function spansToRows(request: OtlpTracesRequest): SpanBatch {
  let ndjson = '';
  let accepted = 0;
  let rejected = 0;
  let firstError: string | undefined;
  for (const rs of request.resourceSpans ?? []) {
    const resourceAttributes = attributesToMap(rs.resource?.attributes);
    const serviceName = resourceAttributes['service.name'] ?? '';
    const resourceJson = `,"ServiceName":${JSON.stringify(serviceName)},"ResourceAttributes":${JSON.stringify(resourceAttributes)}`;
    for (const ss of rs.scopeSpans ?? []) {
      const scopeName = ss.scope?.name ?? '';
      const scopeVersion = ss.scope?.version ?? '';
      // The columns every span of this scope shares, serialised once.
      const shared = `${resourceJson},"ScopeName":${JSON.stringify(scopeName)},"ScopeVersion":${JSON.stringify(scopeVersion)}`;
      for (const span of ss.spans ?? []) {
        try {
          ndjson += wellFormedJson(spanRowJson(span, shared)) + '\n';
          accepted++;
        } catch (err) {
          if (!(err instanceof SpanRejected)) throw err;
          rejected++;
          firstError ??= err.message;
        }
      }
    }
  }
  return { ndjson, accepted, rejected, firstError };
}

/** The ids (refused when missing or all zero), times and lists both row forms start from. */
function spanBasics(span: OtlpSpan) {
  const traceId = idToHex(span.traceId, 16);
  const spanId = idToHex(span.spanId, 8);
  if (!traceId || /^0+$/.test(traceId)) throw new SpanRejected('span has an invalid traceId (expected 16 bytes, not all zero)');
  if (!spanId || /^0+$/.test(spanId)) throw new SpanRejected('span has an invalid spanId (expected 8 bytes, not all zero)');
  return { traceId, spanId, start: toNanos(span.startTimeUnixNano), end: toNanos(span.endTimeUnixNano), events: span.events ?? [], links: span.links ?? [] };
}

const NO_EVENTS_OR_LINKS = ',"Events.Timestamp":[],"Events.Name":[],"Events.Attributes":[],"Links.TraceId":[],"Links.SpanId":[],"Links.TraceState":[],"Links.Attributes":[]}';

/**
 * `JSON.stringify(spanToRow(span, ...))`, byte for byte (a test holds them
 * equal), without building the row object: `shared` is the already
 * serialised ServiceName, ResourceAttributes, ScopeName and ScopeVersion
 * members, which every span of a scope repeats. Ids are lower-case hex and
 * timestamps digits, so they need no escaping.
 */
function spanRowJson(span: OtlpSpan, shared: string): string {
  const { traceId, spanId, start, end, events, links } = spanBasics(span);
  const head =
    `{"Timestamp":"${nanosToDateTime64(start)}","TraceId":"${traceId}","SpanId":"${spanId}","ParentSpanId":"${idToHex(span.parentSpanId, 8) ?? ''}"` +
    `,"TraceState":${JSON.stringify(span.traceState ?? '')},"SpanName":${JSON.stringify(span.name ?? '')}` +
    `,"SpanKind":${JSON.stringify(SPAN_KINDS[enumValue(span.kind, SPAN_KIND_NAMES)] ?? '')}${shared}` +
    `,"SpanAttributes":${JSON.stringify(attributesToMap(span.attributes))},"Duration":"${(end > start ? end - start : 0n).toString()}"` +
    `,"StatusCode":${JSON.stringify(STATUS_CODES[enumValue(span.status?.code, STATUS_CODE_NAMES)] ?? '')},"StatusMessage":${JSON.stringify(span.status?.message ?? '')}`;
  if (events.length === 0 && links.length === 0) return head + NO_EVENTS_OR_LINKS;
  return (
    head +
    `,"Events.Timestamp":${JSON.stringify(events.map((e) => nanosToDateTime64(toNanos(e.timeUnixNano))))}` +
    `,"Events.Name":${JSON.stringify(events.map((e) => e.name ?? ''))}` +
    `,"Events.Attributes":${JSON.stringify(events.map((e) => attributesToMap(e.attributes)))}` +
    `,"Links.TraceId":${JSON.stringify(links.map((l) => idToHex(l.traceId, 16) ?? ''))}` +
    `,"Links.SpanId":${JSON.stringify(links.map((l) => idToHex(l.spanId, 8) ?? ''))}` +
    `,"Links.TraceState":${JSON.stringify(links.map((l) => l.traceState ?? ''))}` +
    `,"Links.Attributes":${JSON.stringify(links.map((l) => attributesToMap(l.attributes)))}}`
  );
}

export function spanToRow(
  span: OtlpSpan,
  serviceName: string,
  resourceAttributes: Record<string, string>,
  scopeName: string,
  scopeVersion: string,
): OtelTraceRow {
  const { traceId, spanId, start, end, events, links } = spanBasics(span);
  return {
    Timestamp: nanosToDateTime64(start),
    TraceId: traceId,
    SpanId: spanId,
    ParentSpanId: idToHex(span.parentSpanId, 8) ?? '',
    TraceState: span.traceState ?? '',
    SpanName: span.name ?? '',
    SpanKind: SPAN_KINDS[enumValue(span.kind, SPAN_KIND_NAMES)] ?? '',
    ServiceName: serviceName,
    ResourceAttributes: resourceAttributes,
    ScopeName: scopeName,
    ScopeVersion: scopeVersion,
    SpanAttributes: attributesToMap(span.attributes),
    Duration: (end > start ? end - start : 0n).toString(),
    StatusCode: STATUS_CODES[enumValue(span.status?.code, STATUS_CODE_NAMES)] ?? '',
    StatusMessage: span.status?.message ?? '',
    'Events.Timestamp': events.map((e) => nanosToDateTime64(toNanos(e.timeUnixNano))),
    'Events.Name': events.map((e) => e.name ?? ''),
    'Events.Attributes': events.map((e) => attributesToMap(e.attributes)),
    'Links.TraceId': links.map((l) => idToHex(l.traceId, 16) ?? ''),
    'Links.SpanId': links.map((l) => idToHex(l.spanId, 8) ?? ''),
    'Links.TraceState': links.map((l) => l.traceState ?? ''),
    'Links.Attributes': links.map((l) => attributesToMap(l.attributes)),
  };
}

function enumValue(value: number | string | undefined, names: Record<string, number>): number {
  if (value === undefined) return 0;
  if (typeof value === 'number') return value;
  return names[value] ?? (/^\d+$/.test(value) ? Number(value) : -1);
}

/**
 * Ids: OTLP/JSON carries them as hex; protobuf as bytes. Base64 is accepted
 * too (proto3 JSON's encoding of bytes). Empty means absent.
 */
export function idToHex(id: Bytes | undefined, size: 8 | 16): string | undefined {
  if (id === undefined || id.length === 0) return undefined;
  if (typeof id !== 'string') return id.length === size ? Buffer.from(id.buffer, id.byteOffset, id.byteLength).toString('hex') : undefined;
  if (id.length === size * 2 && /^[0-9a-fA-F]+$/.test(id)) return id.toLowerCase();
  const bytes = Buffer.from(id, 'base64');
  return bytes.length === size ? bytes.toString('hex') : undefined;
}

/** DateTime64(9) ends in 2262 (signed 64-bit nanoseconds); OTLP times are unsigned. */
const MAX_NANOS = 9_223_372_036_854_775_807n;

function toNanos(value: Int64 | undefined): bigint {
  if (value === undefined || value === '') return 0n;
  let nanos: bigint;
  try {
    nanos = BigInt(value);
  } catch {
    throw new SpanRejected('span has a timestamp that is not an integer number of nanoseconds');
  }
  // Out of range would fail the whole insert block (every request sharing it): reject the span alone.
  if (nanos < 0n || nanos > MAX_NANOS) throw new SpanRejected('span has a timestamp outside 1970..2262');
  return nanos;
}

/**
 * `1714557600123456789n` → `"2024-05-01 10:00:00.123456789"`, which DateTime64(9) parses exactly.
 * (The `seconds.fraction` form fails for small values: the engine reads them as dates.)
 */
export function nanosToDateTime64(nanos: bigint): string {
  const seconds = nanos / 1_000_000_000n;
  const fraction = (nanos % 1_000_000_000n).toString().padStart(9, '0');
  return `${new Date(Number(seconds) * 1000).toISOString().slice(0, 19).replace('T', ' ')}.${fraction}`;
}

export function attributesToMap(attributes: KeyValue[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!attributes) return out;
  for (const kv of attributes) out[kv.key] = anyValueToString(kv.value);
  return out;
}

/** pdata's Value.AsString. */
export function anyValueToString(value: AnyValue | undefined): string {
  if (!value) return '';
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.boolValue !== undefined) return value.boolValue ? 'true' : 'false';
  if (value.intValue !== undefined) return String(value.intValue);
  if (value.doubleValue !== undefined) return formatDouble(value.doubleValue);
  if (value.bytesValue !== undefined) return bytesToBase64(value.bytesValue);
  if (value.arrayValue !== undefined || value.kvlistValue !== undefined) return JSON.stringify(anyValueToRaw(value));
  return '';
}

function anyValueToRaw(value: AnyValue | undefined): unknown {
  if (!value) return null;
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.boolValue !== undefined) return value.boolValue;
  if (value.intValue !== undefined) {
    const n = Number(value.intValue);
    return Number.isSafeInteger(n) ? n : String(value.intValue);
  }
  if (value.doubleValue !== undefined) return Number(value.doubleValue);
  if (value.bytesValue !== undefined) return bytesToBase64(value.bytesValue);
  if (value.arrayValue !== undefined) return (value.arrayValue.values ?? []).map(anyValueToRaw);
  if (value.kvlistValue !== undefined) {
    const out: Record<string, unknown> = {};
    for (const kv of value.kvlistValue.values ?? []) out[kv.key] = anyValueToRaw(kv.value);
    return out;
  }
  return null;
}

/** Go's strconv.FormatFloat(v, 'f', -1, 64): shortest round-trip digits, never an exponent. */
function formatDouble(value: number | string): string {
  const n = Number(value);
  if (Number.isNaN(n)) return 'NaN';
  if (!Number.isFinite(n)) return n > 0 ? '+Inf' : '-Inf';
  const s = String(n);
  if (!s.includes('e')) return s;
  const [mantissa, exp] = s.split('e') as [string, string];
  const e = Number(exp);
  const negative = mantissa.startsWith('-');
  const [int, frac = ''] = mantissa.replace('-', '').split('.') as [string, string?];
  const digits = int + frac;
  const point = int.length + e;
  const body =
    point <= 0 ? `0.${'0'.repeat(-point)}${digits}` : point >= digits.length ? digits + '0'.repeat(point - digits.length) : `${digits.slice(0, point)}.${digits.slice(point)}`;
  return (negative ? '-' : '') + body;
}

function bytesToBase64(bytes: Bytes): string {
  return typeof bytes === 'string' ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}
