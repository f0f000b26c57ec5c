/**
 * OpenTelemetry SDK wiring for a server process. The instrumentation itself
 * only uses @opentelemetry/api; this is the one place that picks exporters.
 */
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { defaultResource, detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, NodeTracerProvider, type SpanProcessor } from '@opentelemetry/sdk-trace-node';

export interface TelemetryOptions {
  serviceName: string;
  /** Collector base URL; `/v1/traces` is appended. */
  endpoint?: string;
  resourceAttributes?: Record<string, string | number | boolean>;
  /** Extra processors (e.g. a SimpleSpanProcessor over an in-memory exporter in tests). */
  spanProcessors?: SpanProcessor[];
  /** Headers for the OTLP exporter (e.g. an ingest token). */
  headers?: Record<string, string>;
}

export interface Telemetry {
  tracerProvider: NodeTracerProvider;
  /** Flushes pending spans and stops the exporter. */
  shutdown(): Promise<void>;
}

export const DEFAULT_OTLP_ENDPOINT = 'http://127.0.0.1:4318';

/**
 * Registers a global NodeTracerProvider: BatchSpanProcessor → OTLP/HTTP,
 * W3C trace-context + baggage propagators, AsyncLocalStorage context manager.
 * OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES override the code's values;
 * OTEL_TRACES_SAMPLER is read by the SDK (default parentbased_always_on).
 */
export function startTelemetry(opts: TelemetryOptions): Telemetry {
  const endpoint = (opts.endpoint ?? process.env.OTEL_EXPORTER_OTLP_ENDPOINT ?? DEFAULT_OTLP_ENDPOINT).replace(/\/+$/, '');
  const resource = defaultResource()
    .merge(resourceFromAttributes({ 'service.name': opts.serviceName, ...opts.resourceAttributes }))
    .merge(detectResources({ detectors: [envDetector] }));

  const exporter = new OTLPTraceExporter({ url: `${endpoint}/v1/traces`, headers: opts.headers });
  const tracerProvider = new NodeTracerProvider({
    resource,
    spanProcessors: [new BatchSpanProcessor(exporter), ...(opts.spanProcessors ?? [])],
  });
  tracerProvider.register({
    propagator: new CompositePropagator({
      propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()],
    }),
    // undefined → the SDK's default AsyncLocalStorageContextManager.
    contextManager: undefined,
  });

  return {
    tracerProvider,
    shutdown: () => tracerProvider.shutdown(),
  };
}
