/**
 * Real OTLP payloads: spans and metrics emitted through the OpenTelemetry SDK
 * and sent by the real OTLP/HTTP exporters (JSON and protobuf).
 */
import { SpanKind, SpanStatusCode, ValueType, context, trace, type HrTime } from '@opentelemetry/api';
import { BasicTracerProvider, SimpleSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { AggregationType, MeterProvider, PeriodicExportingMetricReader, type PushMetricExporter } from '@opentelemetry/sdk-metrics';
import { AggregationTemporalityPreference, OTLPMetricExporter as JsonMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as ProtoMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { ATTR_ERROR_TYPE } from '@opentelemetry/semantic-conventions';
import { ATTR_GEN_AI_TOOL_NAME, ATTR_MCP_METHOD_NAME, ATTR_MCP_PROTOCOL_VERSION, METRIC_MCP_SERVER_OPERATION_DURATION } from '@opentelemetry/semantic-conventions/incubating';

export type ExporterKind = 'json' | 'protobuf';

type Compression = NonNullable<ConstructorParameters<typeof JsonExporter>[0]>['compression'];

export function otlpExporter(kind: ExporterKind, url: string, opts: { gzip?: boolean; headers?: Record<string, string> } = {}): SpanExporter {
  const config = { url, headers: opts.headers, compression: (opts.gzip ? 'gzip' : 'none') as Compression, timeoutMillis: 10_000 };
  return kind === 'json' ? new JsonExporter(config) : new ProtoExporter(config);
}

export const SERVICE_NAME = 'otlp-fixture-svc';

/** What the emitted trace looks like, to assert the stored rows against. */
export interface EmittedTrace {
  traceId: string;
  serverSpanId: string;
  clientSpanId: string;
  linkedTraceId: string;
  linkedSpanId: string;
  /** Server span start, ns since the epoch. */
  serverStartNs: bigint;
  serverDurationNs: bigint;
  clientStartNs: bigint;
  clientDurationNs: bigint;
  eventNs: bigint;
  /** ExportResultCode of every export call the SDK made (0 = SUCCESS). */
  exportResults: number[];
}

/** Records each export's result code, so a test can tell "sent and acknowledged" from "dropped". */
function recording(exporter: SpanExporter, results: number[]): SpanExporter {
  return {
    export: (spans, done) => exporter.export(spans, (result) => {
      results.push(result.code);
      done(result);
    }),
    shutdown: () => exporter.shutdown(),
    forceFlush: () => exporter.forceFlush?.() ?? Promise.resolve(),
  };
}

const toNs = ([s, ns]: HrTime): bigint => BigInt(s) * 1_000_000_000n + BigInt(ns);
const fromNs = (n: bigint): HrTime => [Number(n / 1_000_000_000n), Number(n % 1_000_000_000n)];

/**
 * A SERVER span with a CLIENT child, events, a link, attributes of every type
 * and an error status, exported through `exporter`; resolves once the
 * exporter has been flushed (i.e. the collector answered).
 */
export async function emitTrace(exporter: SpanExporter, label: string): Promise<EmittedTrace> {
  const exportResults: number[] = [];
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': SERVICE_NAME, 'deployment.environment': 'test' }),
    spanProcessors: [new SimpleSpanProcessor(recording(exporter, exportResults))],
  });
  const tracer = provider.getTracer('mcptrail-fixtures', '1.2.3');

  // Exact nanosecond times, recent enough to be inside the 30-day TTL.
  const serverStartNs = BigInt(Math.floor(Date.now() / 1000) - 5) * 1_000_000_000n + 123_456_789n;
  const clientStartNs = serverStartNs + 250_000n;
  const eventNs = serverStartNs + 500_000n;
  const clientDurationNs = 900_000n;
  const serverDurationNs = 1_500_000n;
  const linkedTraceId = '0af7651916cd43dd8448eb211c80319c';
  const linkedSpanId = 'b7ad6b7169203331';

  const server = tracer.startSpan(`tools/call ${label}`, {
    kind: SpanKind.SERVER,
    startTime: fromNs(serverStartNs),
    attributes: {
      'mcp.method.name': 'tools/call',
      'gen_ai.tool.name': label,
      'jsonrpc.request.id': 7,
      'test.double': 3.25,
      'test.bool': true,
      'test.false': false,
      'test.strings': ['a', 'b'],
      'test.ints': [1, 2, 3],
      'test.bools': [true, false],
      'test.negative': -12,
    },
    links: [{ context: { traceId: linkedTraceId, spanId: linkedSpanId, traceFlags: 1 }, attributes: { 'link.reason': 'follows' } }],
  });
  server.addEvent('retry', { attempt: 2, 'retry.reason': 'upstream 503' }, fromNs(eventNs));
  const ctx = trace.setSpan(context.active(), server);
  const client = tracer.startSpan('GET /contacts', { kind: SpanKind.CLIENT, startTime: fromNs(clientStartNs), attributes: { 'http.response.status_code': 503 } }, ctx);
  client.setStatus({ code: SpanStatusCode.ERROR });
  client.end(fromNs(clientStartNs + clientDurationNs));
  server.setStatus({ code: SpanStatusCode.ERROR, message: 'upstream failed' });
  server.end(fromNs(serverStartNs + serverDurationNs));

  // A refused export rejects the flush; the recorded result codes tell the test what happened.
  await provider.forceFlush().catch(() => undefined);
  await provider.shutdown().catch(() => undefined);
  return {
    traceId: server.spanContext().traceId,
    serverSpanId: server.spanContext().spanId,
    clientSpanId: client.spanContext().spanId,
    linkedTraceId,
    linkedSpanId,
    serverStartNs,
    serverDurationNs,
    clientStartNs,
    clientDurationNs,
    eventNs,
    exportResults,
  };
}

export { toNs };

// ---- metrics -------------------------------------------------------------------------------

export function otlpMetricExporter(
  kind: ExporterKind,
  url: string,
  opts: { gzip?: boolean; headers?: Record<string, string>; delta?: boolean } = {},
): PushMetricExporter {
  const config = {
    url,
    headers: opts.headers,
    compression: (opts.gzip ? 'gzip' : 'none') as Compression,
    timeoutMillis: 10_000,
    temporalityPreference: opts.delta ? AggregationTemporalityPreference.DELTA : AggregationTemporalityPreference.CUMULATIVE,
  };
  return kind === 'json' ? new JsonMetricExporter(config) : new ProtoMetricExporter(config);
}

/** The explicit bucket boundaries the MCP semantic conventions advise for mcp.server.operation.duration (seconds). */
export const MCP_DURATION_BUCKETS = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60, 120, 300];

/** What emitMetrics recorded, to assert the stored rows against. */
export interface EmittedMetrics {
  /** Distinguishes this emission's series from others in the same store. */
  runId: string;
  /** ns since the epoch around the export. */
  beforeNs: bigint;
  afterNs: bigint;
  exportResults: number[];
}

/**
 * Every metric type the SDK produces, through the real SDK and `exporter`:
 * the MCP server duration histogram (semconv name, unit, buckets and
 * attributes), an exponential histogram (by view), monotonic and
 * non-monotonic sums (double and int), a synchronous and an observable
 * gauge; resolves once the one export has been answered.
 */
export async function emitMetrics(exporter: PushMetricExporter, runId: string): Promise<EmittedMetrics> {
  const exportResults: number[] = [];
  const recordingExporter: PushMetricExporter = {
    export: (metrics, done) => exporter.export(metrics, (result) => {
      exportResults.push(result.code);
      done(result);
    }),
    forceFlush: () => exporter.forceFlush(),
    shutdown: () => exporter.shutdown(),
    selectAggregationTemporality: exporter.selectAggregationTemporality?.bind(exporter),
    selectAggregation: exporter.selectAggregation?.bind(exporter),
  };
  const beforeNs = BigInt(Date.now()) * 1_000_000n;
  const provider = new MeterProvider({
    resource: resourceFromAttributes({ 'service.name': SERVICE_NAME, 'deployment.environment': 'test', 'test.run': runId }),
    readers: [new PeriodicExportingMetricReader({ exporter: recordingExporter, exportIntervalMillis: 3_600_000 })],
    views: [{ instrumentName: 'test.exp_histogram', aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM } }],
  });
  const meter = provider.getMeter('mcptrail-fixtures', '1.2.3');

  const duration = meter.createHistogram(METRIC_MCP_SERVER_OPERATION_DURATION, {
    unit: 's',
    description: 'MCP request duration as observed on the receiver',
    advice: { explicitBucketBoundaries: MCP_DURATION_BUCKETS },
  });
  const ok = { [ATTR_MCP_METHOD_NAME]: 'tools/call', [ATTR_GEN_AI_TOOL_NAME]: 'crm.search_contacts', [ATTR_MCP_PROTOCOL_VERSION]: '2025-06-18' };
  duration.record(0.015, ok);
  duration.record(0.3, ok);
  duration.record(7, { [ATTR_MCP_METHOD_NAME]: 'tools/call', [ATTR_GEN_AI_TOOL_NAME]: 'crm.issue_refund', [ATTR_MCP_PROTOCOL_VERSION]: '2025-06-18', [ATTR_ERROR_TYPE]: 'tool_error' });

  const exp = meter.createHistogram('test.exp_histogram', { unit: 'ms' });
  for (const v of [0.5, 1, 2, 4, 1000]) exp.record(v);

  const counter = meter.createCounter('test.counter', { description: 'a monotonic sum' });
  counter.add(3, { b: '1', '10': 'ten', '9': 'nine' });
  counter.add(4, { b: '1', '10': 'ten', '9': 'nine' });
  const intCounter = meter.createCounter('test.int_counter', { valueType: ValueType.INT });
  intCounter.add(2 ** 40);
  const updown = meter.createUpDownCounter('test.updown');
  updown.add(5);
  updown.add(-8);

  meter.createGauge('test.gauge', { unit: '1' }).record(42.5, { host: 'a' });
  meter.createObservableGauge('test.observable', { valueType: ValueType.INT }).addCallback((result) => result.observe(12, { slot: 'x' }));

  // Shutdown collects and exports once more, so it is the only export (a flush first would send every point twice).
  await provider.shutdown().catch(() => undefined);
  const afterNs = BigInt(Date.now()) * 1_000_000n;
  return { runId, beforeNs, afterNs, exportResults };
}
