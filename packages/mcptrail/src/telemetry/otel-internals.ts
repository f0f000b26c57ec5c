/**
 * The one place mcptrail reads OpenTelemetry SDK internals, to join a tracer
 * provider the host already runs. The API exposes the global provider as a
 * ProxyTracerProvider whose delegate is the host's (public: `getDelegate`,
 * `getDelegateTracer`), but SDK 2.x providers take their span processors in
 * the constructor only: adding mcptrail's exporter to a running NodeSDK or
 * NodeTracerProvider means appending to its MultiSpanProcessor's list
 * (`_activeSpanProcessor._spanProcessors`, which the SDK's own forceFlush
 * and inspect read the same way). test/otel-internals.test.ts holds this to
 * the installed SDK and fails naming the member when it moves; hosts that
 * would rather not rely on it pass `mcptrailSpanProcessor()` to their SDK.
 */
import { trace, type TracerProvider } from '@opentelemetry/api';
import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';

interface ProxyLike {
  getDelegate?: () => TracerProvider;
  getDelegateTracer?: (name: string) => unknown;
}

interface SdkProviderLike {
  _activeSpanProcessor?: { _spanProcessors?: unknown };
}

/** The tracer provider registered with the API, or undefined when none is (the API's no-op). */
export function registeredTracerProvider(): TracerProvider | undefined {
  const global = trace.getTracerProvider() as TracerProvider & ProxyLike;
  if (typeof global.getDelegate !== 'function' || typeof global.getDelegateTracer !== 'function') return global;
  // getDelegateTracer answers undefined exactly when no delegate was set.
  return global.getDelegateTracer('mcptrail') === undefined ? undefined : global.getDelegate();
}

/** The span processor list of an SDK provider, or undefined when the provider is not an SDK 2.x one. */
export function spanProcessorList(provider: TracerProvider): SpanProcessor[] | undefined {
  const list = (provider as SdkProviderLike)._activeSpanProcessor?._spanProcessors;
  return Array.isArray(list) ? (list as SpanProcessor[]) : undefined;
}
