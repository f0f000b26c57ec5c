/**
 * OTLP trace and metric data in the shape of OTLP/JSON after the shape check
 * (shape.ts): field names lowerCamelCase, nulls removed, enums, 32-bit
 * integers and doubles as numbers. The protobuf decoder produces the same
 * shape, except that ids and bytes are Uint8Array; 64-bit integers are
 * numbers or decimal strings in both. The row mappers accept both.
 */
export type Bytes = string | Uint8Array;
export type Int64 = string | number;

export interface AnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: Int64;
  doubleValue?: number;
  arrayValue?: { values?: AnyValue[] };
  kvlistValue?: { values?: KeyValue[] };
  bytesValue?: Bytes;
}

export interface KeyValue {
  key?: string;
  value?: AnyValue;
}

export interface OtlpResource {
  attributes?: KeyValue[];
  droppedAttributesCount?: number;
}

export interface OtlpScope {
  name?: string;
  version?: string;
  attributes?: KeyValue[];
  droppedAttributesCount?: number;
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
  kind?: number;
  startTimeUnixNano?: Int64;
  endTimeUnixNano?: Int64;
  attributes?: KeyValue[];
  events?: OtlpEvent[];
  links?: OtlpLink[];
  status?: { message?: string; code?: number };
}

export interface OtlpScopeSpans {
  scope?: OtlpScope;
  spans?: OtlpSpan[];
  schemaUrl?: string;
}

export interface OtlpResourceSpans {
  resource?: OtlpResource;
  scopeSpans?: OtlpScopeSpans[];
  schemaUrl?: string;
}

export interface OtlpTracesRequest {
  resourceSpans?: OtlpResourceSpans[];
}

export interface OtlpExemplar {
  filteredAttributes?: KeyValue[];
  timeUnixNano?: Int64;
  asDouble?: number;
  asInt?: Int64;
  spanId?: Bytes;
  traceId?: Bytes;
}

/** The fields every data point type shares. */
export interface OtlpPointBase {
  attributes?: KeyValue[];
  startTimeUnixNano?: Int64;
  timeUnixNano?: Int64;
  flags?: number;
}

export interface OtlpNumberDataPoint extends OtlpPointBase {
  asDouble?: number;
  asInt?: Int64;
  exemplars?: OtlpExemplar[];
}

export interface OtlpHistogramDataPoint extends OtlpPointBase {
  count?: Int64;
  sum?: number;
  bucketCounts?: Int64[];
  explicitBounds?: number[];
  exemplars?: OtlpExemplar[];
  min?: number;
  max?: number;
}

export interface OtlpBuckets {
  offset?: number;
  bucketCounts?: Int64[];
}

export interface OtlpExponentialHistogramDataPoint extends OtlpPointBase {
  count?: Int64;
  sum?: number;
  scale?: number;
  zeroCount?: Int64;
  positive?: OtlpBuckets;
  negative?: OtlpBuckets;
  exemplars?: OtlpExemplar[];
  min?: number;
  max?: number;
}

export interface OtlpSummaryDataPoint extends OtlpPointBase {
  count?: Int64;
  sum?: number;
  quantileValues?: { quantile?: number; value?: number }[];
}

export interface OtlpMetric {
  name?: string;
  description?: string;
  unit?: string;
  gauge?: { dataPoints?: OtlpNumberDataPoint[] };
  sum?: { dataPoints?: OtlpNumberDataPoint[]; aggregationTemporality?: number; isMonotonic?: boolean };
  histogram?: { dataPoints?: OtlpHistogramDataPoint[]; aggregationTemporality?: number };
  exponentialHistogram?: { dataPoints?: OtlpExponentialHistogramDataPoint[]; aggregationTemporality?: number };
  summary?: { dataPoints?: OtlpSummaryDataPoint[] };
}

export interface OtlpScopeMetrics {
  scope?: OtlpScope;
  metrics?: OtlpMetric[];
  schemaUrl?: string;
}

export interface OtlpResourceMetrics {
  resource?: OtlpResource;
  scopeMetrics?: OtlpScopeMetrics[];
  schemaUrl?: string;
}

export interface OtlpMetricsRequest {
  resourceMetrics?: OtlpResourceMetrics[];
}
