/**
 * OTLP trace data in the shape of OTLP/JSON. The protobuf decoder produces the
 * same shape, except that ids and bytes are Uint8Array and 64-bit integers
 * strings; the row mapper accepts both.
 */
export type Bytes = string | Uint8Array;
export type Int64 = string | number;

export interface AnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: Int64;
  doubleValue?: number | string;
  arrayValue?: { values?: AnyValue[] };
  kvlistValue?: { values?: KeyValue[] };
  bytesValue?: Bytes;
}

export interface KeyValue {
  key: string;
  value?: AnyValue;
}

export interface OtlpEvent {
  timeUnixNano?: Int64;
  name?: string;
  attributes?: KeyValue[];
}

export interface OtlpLink {
  traceId?: Bytes;
  spanId?: Bytes;
  traceState?: string;
  attributes?: KeyValue[];
}

export interface OtlpSpan {
  traceId?: Bytes;
  spanId?: Bytes;
  traceState?: string;
  parentSpanId?: Bytes;
  name?: string;
  kind?: number | string;
  startTimeUnixNano?: Int64;
  endTimeUnixNano?: Int64;
  attributes?: KeyValue[];
  events?: OtlpEvent[];
  links?: OtlpLink[];
  status?: { message?: string; code?: number | string };
}

export interface OtlpScopeSpans {
  scope?: { name?: string; version?: string };
  spans?: OtlpSpan[];
}

export interface OtlpResourceSpans {
  resource?: { attributes?: KeyValue[] };
  scopeSpans?: OtlpScopeSpans[];
}

export interface OtlpTracesRequest {
  resourceSpans?: OtlpResourceSpans[];
}
