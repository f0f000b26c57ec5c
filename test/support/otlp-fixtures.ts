/**
 * Real OTLP payloads: spans emitted through the OpenTelemetry SDK and sent by
 * the real OTLP/HTTP exporters (JSON and protobuf).
 */
import { SpanKind, SpanStatusCode, context, trace, type HrTime } from '@opentelemetry/api';
import { BasicTracerProvider, SimpleSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';

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
