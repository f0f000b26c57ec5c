/**
 * The slice of the OTLP protobuf schema the traces and metrics receivers need
 * (opentelemetry/proto collector/{trace,metrics}/v1, trace/v1, metrics/v1,
 * common/v1, resource/v1), as a protobufjs JSON descriptor: embedded in code
 * so it ships with `dist/` and needs no .proto files at run time. Field names
 * are the proto3 JSON (lowerCamelCase) names, so a decoded message has the
 * shape of OTLP/JSON. The same descriptor drives the OTLP/JSON shape check
 * (shape.ts), so both encodings accept the same documents.
 */
import protobuf from 'protobufjs';

const repeated = (type: string, id: number) => ({ rule: 'repeated', type, id });
const field = (type: string, id: number) => ({ type, id });
/** proto3 `optional` fields (sum, min, max): the exporter stores an unset one as 0, so presence is not tracked. */
const optional = field;

/** Fields whose JSON form is hex (OTLP/JSON), not base64: the row mappers parse them. */
export const ID_FIELDS: ReadonlySet<string> = new Set(['traceId', 'spanId', 'parentSpanId']);

export const OTLP_DESCRIPTOR = {
  nested: {
    AnyValue: {
      oneofs: {
        value: { oneof: ['stringValue', 'boolValue', 'intValue', 'doubleValue', 'arrayValue', 'kvlistValue', 'bytesValue'] },
      },
      fields: {
        stringValue: field('string', 1),
        boolValue: field('bool', 2),
        intValue: field('int64', 3),
        doubleValue: field('double', 4),
        arrayValue: field('ArrayValue', 5),
        kvlistValue: field('KeyValueList', 6),
        bytesValue: field('bytes', 7),
      },
    },
    ArrayValue: { fields: { values: repeated('AnyValue', 1) } },
    KeyValueList: { fields: { values: repeated('KeyValue', 1) } },
    KeyValue: { fields: { key: field('string', 1), value: field('AnyValue', 2) } },
    InstrumentationScope: {
      fields: {
        name: field('string', 1),
        version: field('string', 2),
        attributes: repeated('KeyValue', 3),
        droppedAttributesCount: field('uint32', 4),
      },
    },
    Resource: {
      fields: { attributes: repeated('KeyValue', 1), droppedAttributesCount: field('uint32', 2) },
    },

    // traces
    ExportTraceServiceRequest: { fields: { resourceSpans: repeated('ResourceSpans', 1) } },
    ExportTraceServiceResponse: { fields: { partialSuccess: field('ExportTracePartialSuccess', 1) } },
    ExportTracePartialSuccess: { fields: { rejectedSpans: field('int64', 1), errorMessage: field('string', 2) } },
    ResourceSpans: {
      fields: { resource: field('Resource', 1), scopeSpans: repeated('ScopeSpans', 2), schemaUrl: field('string', 3) },
    },
    ScopeSpans: {
      fields: { scope: field('InstrumentationScope', 1), spans: repeated('Span', 2), schemaUrl: field('string', 3) },
    },
    SpanKind: {
      values: {
        SPAN_KIND_UNSPECIFIED: 0,
        SPAN_KIND_INTERNAL: 1,
        SPAN_KIND_SERVER: 2,
        SPAN_KIND_CLIENT: 3,
        SPAN_KIND_PRODUCER: 4,
        SPAN_KIND_CONSUMER: 5,
      },
    },
    StatusCode: { values: { STATUS_CODE_UNSET: 0, STATUS_CODE_OK: 1, STATUS_CODE_ERROR: 2 } },
    Span: {
      fields: {
        traceId: field('bytes', 1),
        spanId: field('bytes', 2),
        traceState: field('string', 3),
        parentSpanId: field('bytes', 4),
        flags: field('fixed32', 16),
        name: field('string', 5),
        kind: field('SpanKind', 6),
        startTimeUnixNano: field('fixed64', 7),
        endTimeUnixNano: field('fixed64', 8),
        attributes: repeated('KeyValue', 9),
        droppedAttributesCount: field('uint32', 10),
        events: repeated('Event', 11),
        droppedEventsCount: field('uint32', 12),
        links: repeated('Link', 13),
        droppedLinksCount: field('uint32', 14),
        status: field('Status', 15),
      },
    },
    Event: {
      fields: {
        timeUnixNano: field('fixed64', 1),
        name: field('string', 2),
        attributes: repeated('KeyValue', 3),
        droppedAttributesCount: field('uint32', 4),
      },
    },
    Link: {
      fields: {
        traceId: field('bytes', 1),
        spanId: field('bytes', 2),
        traceState: field('string', 3),
        attributes: repeated('KeyValue', 4),
        droppedAttributesCount: field('uint32', 5),
        flags: field('fixed32', 6),
      },
    },
    Status: { fields: { message: field('string', 2), code: field('StatusCode', 3) } },

    // metrics
    ExportMetricsServiceRequest: { fields: { resourceMetrics: repeated('ResourceMetrics', 1) } },
    ExportMetricsServiceResponse: { fields: { partialSuccess: field('ExportMetricsPartialSuccess', 1) } },
    ExportMetricsPartialSuccess: { fields: { rejectedDataPoints: field('int64', 1), errorMessage: field('string', 2) } },
    ResourceMetrics: {
      fields: { resource: field('Resource', 1), scopeMetrics: repeated('ScopeMetrics', 2), schemaUrl: field('string', 3) },
    },
    ScopeMetrics: {
      fields: { scope: field('InstrumentationScope', 1), metrics: repeated('Metric', 2), schemaUrl: field('string', 3) },
    },
    Metric: {
      oneofs: { data: { oneof: ['gauge', 'sum', 'histogram', 'exponentialHistogram', 'summary'] } },
      fields: {
        name: field('string', 1),
        description: field('string', 2),
        unit: field('string', 3),
        gauge: field('Gauge', 5),
        sum: field('Sum', 7),
        histogram: field('Histogram', 9),
        exponentialHistogram: field('ExponentialHistogram', 10),
        summary: field('Summary', 11),
        metadata: repeated('KeyValue', 12),
      },
    },
    AggregationTemporality: {
      values: { AGGREGATION_TEMPORALITY_UNSPECIFIED: 0, AGGREGATION_TEMPORALITY_DELTA: 1, AGGREGATION_TEMPORALITY_CUMULATIVE: 2 },
    },
    Gauge: { fields: { dataPoints: repeated('NumberDataPoint', 1) } },
    Sum: {
      fields: { dataPoints: repeated('NumberDataPoint', 1), aggregationTemporality: field('AggregationTemporality', 2), isMonotonic: field('bool', 3) },
    },
    Histogram: { fields: { dataPoints: repeated('HistogramDataPoint', 1), aggregationTemporality: field('AggregationTemporality', 2) } },
    ExponentialHistogram: {
      fields: { dataPoints: repeated('ExponentialHistogramDataPoint', 1), aggregationTemporality: field('AggregationTemporality', 2) },
    },
    Summary: { fields: { dataPoints: repeated('SummaryDataPoint', 1) } },
    NumberDataPoint: {
      oneofs: { value: { oneof: ['asDouble', 'asInt'] } },
      fields: {
        attributes: repeated('KeyValue', 7),
        startTimeUnixNano: field('fixed64', 2),
        timeUnixNano: field('fixed64', 3),
        asDouble: field('double', 4),
        asInt: field('sfixed64', 6),
        exemplars: repeated('Exemplar', 5),
        flags: field('uint32', 8),
      },
    },
    HistogramDataPoint: {
      fields: {
        attributes: repeated('KeyValue', 9),
        startTimeUnixNano: field('fixed64', 2),
        timeUnixNano: field('fixed64', 3),
        count: field('fixed64', 4),
        sum: optional('double', 5),
        bucketCounts: repeated('fixed64', 6),
        explicitBounds: repeated('double', 7),
        exemplars: repeated('Exemplar', 8),
        flags: field('uint32', 10),
        min: optional('double', 11),
        max: optional('double', 12),
      },
    },
    ExponentialHistogramDataPoint: {
      fields: {
        attributes: repeated('KeyValue', 1),
        startTimeUnixNano: field('fixed64', 2),
        timeUnixNano: field('fixed64', 3),
        count: field('fixed64', 4),
        sum: optional('double', 5),
        scale: field('sint32', 6),
        zeroCount: field('fixed64', 7),
        positive: field('Buckets', 8),
        negative: field('Buckets', 9),
        flags: field('uint32', 10),
        exemplars: repeated('Exemplar', 11),
        min: optional('double', 12),
        max: optional('double', 13),
        zeroThreshold: field('double', 14),
      },
    },
    Buckets: { fields: { offset: field('sint32', 1), bucketCounts: repeated('uint64', 2) } },
    SummaryDataPoint: {
      fields: {
        attributes: repeated('KeyValue', 7),
        startTimeUnixNano: field('fixed64', 2),
        timeUnixNano: field('fixed64', 3),
        count: field('fixed64', 4),
        sum: field('double', 5),
        quantileValues: repeated('ValueAtQuantile', 6),
        flags: field('uint32', 8),
      },
    },
    ValueAtQuantile: { fields: { quantile: field('double', 1), value: field('double', 2) } },
    Exemplar: {
      oneofs: { value: { oneof: ['asDouble', 'asInt'] } },
      fields: {
        filteredAttributes: repeated('KeyValue', 7),
        timeUnixNano: field('fixed64', 2),
        asDouble: field('double', 3),
        asInt: field('sfixed64', 6),
        spanId: field('bytes', 4),
        traceId: field('bytes', 5),
      },
    },

    /** google.rpc.Status: the body of an OTLP/HTTP error response. */
    RpcStatus: { fields: { code: field('int32', 1), message: field('string', 2) } },
  },
};

export const otlpRoot = protobuf.Root.fromJSON(OTLP_DESCRIPTOR);
export const ExportTraceServiceRequest = otlpRoot.lookupType('ExportTraceServiceRequest');
export const ExportTraceServiceResponse = otlpRoot.lookupType('ExportTraceServiceResponse');
export const ExportMetricsServiceRequest = otlpRoot.lookupType('ExportMetricsServiceRequest');
export const ExportMetricsServiceResponse = otlpRoot.lookupType('ExportMetricsServiceResponse');
export const RpcStatus = otlpRoot.lookupType('RpcStatus');

/** How deep protobufjs lets messages nest before it refuses a message; the JSON check uses the same bound. */
export const MAX_MESSAGE_DEPTH: number = protobuf.Reader.recursionLimit ?? 100;
