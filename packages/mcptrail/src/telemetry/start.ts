/**
 * OpenTelemetry SDK wiring for a server process; the instrumentation itself
 * only uses @opentelemetry/api. Three ways in:
 *
 * - `startTelemetry()` starts an SDK: `@opentelemetry/sdk-node`'s NodeSDK
 *   when it is installed (an optional peer: it brings ~38 MB of exporters,
 *   gRPC and protobuf that an MCP server rarely needs), else the same
 *   pieces NodeSDK would assemble from the light packages mcptrail depends
 *   on (NodeTracerProvider, MeterProvider, OTLP/HTTP exporters). Same
 *   resource, propagators, sampler (OTEL_TRACES_SAMPLER), endpoints.
 * - `mcptrailSpanProcessor()` / `mcptrailMetricReader()`: for a host that
 *   configures NodeSDK itself (`spanProcessors`, `metricReaders`).
 * - `joinTelemetry()`: a provider already runs (NodeSDK started first):
 *   mcptrail's span processor is added to it (otel-internals.ts), and
 *   mcptrail's metrics get a provider of their own next to the host's.
 *
 * Spans go through a disk spool (span-spool.ts) when a spool directory is
 * set (`spoolDir`, or MCPTRAIL_SPOOL_DIR + `/spans`), else straight to the
 * OTLP/HTTP exporter.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { metrics, type Context, type TextMapPropagator } from '@opentelemetry/api';
import type { Resource } from '@opentelemetry/resources';
import type { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import type { ReadableSpan, Span, SpanExporter, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { lazy } from '../lazy.js';
import type { Logger } from '../record/index.js';
import { addMeterProvider } from './meters.js';
import { registeredTracerProvider, spanProcessorList } from './otel-internals.js';
import { ATTR_SERVICE_NAME } from './semconv.js';
import { createSpoolingSpanExporter } from './span-spool.js';
import { resolveTargets, type TargetOptions } from './targets.js';

export interface TelemetryOptions extends TargetOptions {
  /** service.name (OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES override it, as in every OTel SDK). */
  serviceName?: string;
  /** Collector base URL (alias of `collectorUrl`); `/v1/traces` and `/v1/metrics` are appended. */
  endpoint?: string;
  resourceAttributes?: Record<string, string | number | boolean>;
  /** Extra processors (e.g. a SimpleSpanProcessor over an in-memory exporter in tests). */
  spanProcessors?: SpanProcessor[];
  /** Spool spans on disk before shipping. Default `<MCPTRAIL_SPOOL_DIR>/spans` when that is set; false: never. */
  spoolDir?: string | false;
  /** Export mcptrail's metrics (OTLP/HTTP to `/v1/metrics`). Default true. */
  metrics?: boolean;
  /** Metric export interval. Default OTEL_METRIC_EXPORT_INTERVAL, else 60 s. */
  metricExportIntervalMs?: number;
  /** Without a span spool: how long spans wait in the batch before export. Default OTEL_BSP_SCHEDULE_DELAY, else 5 s. (With a spool, a span is written to disk as it ends.) */
  spanBatchDelayMs?: number;
  /** Span drops are logged here. */
  logger?: Logger;
  /** `auto` (default): NodeSDK when `@opentelemetry/sdk-node` is installed, else `basic`. */
  engine?: 'auto' | 'node-sdk' | 'basic';
}

export interface Telemetry {
  /** What runs: a NodeSDK, the light providers, or mcptrail's exporters inside the host's SDK. */
  readonly engine: 'node-sdk' | 'basic' | 'joined';
  /** Exports what is buffered (spans to the spool or the collector, metrics). */
  forceFlush(): Promise<void>;
  /** Flushes and stops what mcptrail started (never the host's own SDK). */
  shutdown(): Promise<void>;
}

// The SDK pieces are loaded when telemetry is set up, not when mcptrail is imported (lazy.ts).
const core = lazy<typeof import('@opentelemetry/core')>('@opentelemetry/core');
const resources = lazy<typeof import('@opentelemetry/resources')>('@opentelemetry/resources');
const sdkMetrics = lazy<typeof import('@opentelemetry/sdk-metrics')>('@opentelemetry/sdk-metrics');
const sdkTraceBase = lazy<typeof import('@opentelemetry/sdk-trace-base')>('@opentelemetry/sdk-trace-base');
const sdkTraceNode = lazy<typeof import('@opentelemetry/sdk-trace-node')>('@opentelemetry/sdk-trace-node');
const traceExporter = lazy<typeof import('@opentelemetry/exporter-trace-otlp-http')>('@opentelemetry/exporter-trace-otlp-http');
const metricExporter = lazy<typeof import('@opentelemetry/exporter-metrics-otlp-http')>('@opentelemetry/exporter-metrics-otlp-http');

/** Processors mcptrail built: a joined provider is never given a second one. */
const OURS = Symbol.for('mcptrail.spanProcessor');
let metricReaderHandedOut = false;

export function startTelemetry(opts: TelemetryOptions = {}): Telemetry {
  const resource = buildResource(opts);
  const processors = [mcptrailSpanProcessor(opts), ...(opts.spanProcessors ?? [])];
  const readers = opts.metrics === false ? [] : [metricReader(opts)];
  const propagator = w3cPropagator();
  const engine = opts.engine === 'basic' ? undefined : loadNodeSdk(opts.engine === 'node-sdk');

  if (engine) {
    const sdk = new engine.NodeSDK({
      resource,
      autoDetectResources: false,
      spanProcessors: processors,
      metricReaders: readers,
      textMapPropagator: propagator,
      // mcptrail writes no OTel logs: without this NodeSDK would start an OTLP log exporter from the environment.
      logRecordProcessors: [],
      instrumentations: [],
    });
    sdk.start();
    return { engine: 'node-sdk', forceFlush: () => flushAll(processors, readers), shutdown: () => sdk.shutdown() };
  }

  const tracerProvider = new (sdkTraceNode().NodeTracerProvider)({ resource, spanProcessors: processors });
  // undefined context manager → the SDK's default AsyncLocalStorageContextManager.
  tracerProvider.register({ propagator, contextManager: undefined });
  const meterProvider = readers.length ? new (sdkMetrics().MeterProvider)({ resource, readers }) : undefined;
  if (meterProvider) metrics.setGlobalMeterProvider(meterProvider);
  return {
    engine: 'basic',
    forceFlush: () => flushAll(processors, readers),
    shutdown: async () => {
      await Promise.all([tracerProvider.shutdown(), meterProvider?.shutdown()]);
    },
  };
}

/**
 * mcptrail's exporter inside an SDK the host already runs: its span
 * processor appended to the registered provider (only mcptrail's own spans
 * pass, unless `allSpans`), and its metrics through a MeterProvider of its
 * own (the host's provider, when there is one, records them too). Returns
 * undefined when no provider is registered, or when it cannot be joined
 * (not an SDK 2.x provider): then pass `mcptrailSpanProcessor()` to it.
 */
export function joinTelemetry(opts: TelemetryOptions & { allSpans?: boolean } = {}): Telemetry | undefined {
  const host = registeredTracerProvider();
  if (!host) return undefined;
  const list = spanProcessorList(host);
  if (!list) return undefined;
  let processor: SpanProcessor | undefined;
  if (!list.some((p) => OURS in p)) {
    const ours = mcptrailSpanProcessor(opts);
    processor = opts.allSpans ? ours : onlyMcptrailSpans(ours);
    list.push(processor);
  }
  let own: MeterProvider | undefined;
  let detach = () => {};
  if (opts.metrics !== false && !metricReaderHandedOut) {
    own = new (sdkMetrics().MeterProvider)({ resource: buildResource(opts), readers: [metricReader(opts)] });
    detach = addMeterProvider(own);
  }
  return {
    engine: 'joined',
    forceFlush: async () => {
      await Promise.all([processor?.forceFlush(), own?.forceFlush()]);
    },
    shutdown: async () => {
      detach();
      if (processor) {
        const i = list.indexOf(processor);
        if (i !== -1) list.splice(i, 1);
      }
      await Promise.all([processor?.shutdown(), own?.shutdown()]);
    },
  };
}

/**
 * The processor exporting to the collector. With a span spool, each span is
 * written to disk as it ends (a SimpleSpanProcessor over the spooling
 * exporter, which batches its sends itself): a BatchSpanProcessor would hold
 * it in memory for up to 5 s, and a crash would lose it. Without a spool, a
 * BatchSpanProcessor.
 */
export function mcptrailSpanProcessor(opts: TelemetryOptions = {}): SpanProcessor {
  const exporter = spanExporter(opts);
  const sdk = sdkTraceBase();
  const inner = spoolsSpans(opts)
    ? new sdk.SimpleSpanProcessor(exporter)
    : new sdk.BatchSpanProcessor(exporter, opts.spanBatchDelayMs === undefined ? undefined : { scheduledDelayMillis: opts.spanBatchDelayMs });
  // The SDK processors' forceFlush stops at the exporter; a spooling exporter has its own queue to ship.
  const processor: SpanProcessor = {
    onStart: (span: Span, parent: Context) => inner.onStart(span, parent),
    onEnd: (span: ReadableSpan) => inner.onEnd(span),
    forceFlush: async () => {
      await inner.forceFlush();
      await exporter.forceFlush?.();
    },
    shutdown: () => inner.shutdown(),
  };
  Object.defineProperty(processor, OURS, { value: true });
  return processor;
}

/** A periodic reader exporting mcptrail's (and the host's) metrics over OTLP/HTTP to the collector's `/v1/metrics`. */
export function mcptrailMetricReader(opts: TelemetryOptions = {}): MetricReader {
  metricReaderHandedOut = true;
  return metricReader(opts);
}

function metricReader(opts: TelemetryOptions): MetricReader {
  const targets = resolveTargets(targetOptions(opts));
  return new (sdkMetrics().PeriodicExportingMetricReader)({
    exporter: new (metricExporter().OTLPMetricExporter)({ url: targets.metricsUrl, headers: targets.metricHeaders }),
    exportIntervalMillis: opts.metricExportIntervalMs ?? core().getNumberFromEnv('OTEL_METRIC_EXPORT_INTERVAL') ?? 60_000,
  });
}

function spanSpoolDir(opts: TelemetryOptions): string | undefined {
  return opts.spoolDir === false ? undefined : (opts.spoolDir ?? (process.env.MCPTRAIL_SPOOL_DIR ? join(process.env.MCPTRAIL_SPOOL_DIR, 'spans') : undefined));
}

function spoolsSpans(opts: TelemetryOptions): boolean {
  return spanSpoolDir(opts) !== undefined;
}

function spanExporter(opts: TelemetryOptions): SpanExporter {
  const targets = resolveTargets(targetOptions(opts));
  const dir = spanSpoolDir(opts);
  if (!dir) return new (traceExporter().OTLPTraceExporter)({ url: targets.tracesUrl, headers: targets.traceHeaders });
  return createSpoolingSpanExporter({
    url: targets.tracesUrl,
    dir,
    headers: targets.traceHeaders,
    eventsUrl: targets.recordsUrl.replace(/\/v1\/records$/, '/v1/events'),
    logger: opts.logger,
    service: opts.serviceName,
  });
}

function targetOptions(opts: TelemetryOptions): TargetOptions {
  return { collectorUrl: opts.collectorUrl ?? opts.endpoint, ingestToken: opts.ingestToken, headers: opts.headers };
}

function buildResource(opts: TelemetryOptions): Resource {
  const attributes = { ...opts.resourceAttributes, ...(opts.serviceName ? { [ATTR_SERVICE_NAME]: opts.serviceName } : {}) };
  const { defaultResource, detectResources, envDetector, resourceFromAttributes } = resources();
  return defaultResource().merge(resourceFromAttributes(attributes)).merge(detectResources({ detectors: [envDetector] }));
}

function w3cPropagator(): TextMapPropagator {
  const { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } = core();
  return new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] });
}

/** Only spans of mcptrail's tracers (the SERVER and upstream CLIENT spans) reach the collector from a joined host. */
function onlyMcptrailSpans(inner: SpanProcessor): SpanProcessor {
  const processor: SpanProcessor = {
    onStart: (span: Span, parent: Context) => inner.onStart(span, parent),
    onEnd: (span: ReadableSpan) => {
      if (span.instrumentationScope.name.startsWith('mcptrail')) inner.onEnd(span);
    },
    forceFlush: () => inner.forceFlush(),
    shutdown: () => inner.shutdown(),
  };
  Object.defineProperty(processor, OURS, { value: true });
  return processor;
}

async function flushAll(processors: SpanProcessor[], readers: MetricReader[]): Promise<void> {
  await Promise.all([...processors.map((p) => p.forceFlush()), ...readers.map((r) => r.forceFlush())]);
}

type NodeSdkModule = typeof import('@opentelemetry/sdk-node');

/**
 * NodeSDK, when installed. Loaded with require: the OpenTelemetry packages
 * ship CommonJS to Node (no import condition), so this is the same module
 * instance an `import` would give, and startTelemetry() stays synchronous.
 */
function loadNodeSdk(required: boolean): NodeSdkModule | undefined {
  try {
    return createRequire(import.meta.url)('@opentelemetry/sdk-node') as NodeSdkModule;
  } catch (err) {
    if (!required && (err as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND') return undefined;
    throw err;
  }
}

/** Whether some tracer provider is registered with the API (a host's SDK, or ours). */
export function telemetryRunning(): boolean {
  return registeredTracerProvider() !== undefined;
}
