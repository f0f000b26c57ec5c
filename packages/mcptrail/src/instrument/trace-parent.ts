/**
 * Parent selection for the SERVER span (semconv MCP + SEP-414): the
 * `_meta` trace context first, else the ambient/HTTP one; when both exist and
 * differ, the other one becomes a link.
 */
import {
  context,
  isSpanContextValid,
  propagation,
  trace,
  type Context,
  type Link,
  type SpanContext,
  type TextMapGetter,
} from '@opentelemetry/api';

export interface ParentSources {
  meta: Record<string, unknown> | undefined;
  header(name: string): string | undefined;
}

export interface ParentChoice {
  parent: Context;
  links: Link[] | undefined;
}

const metaGetter: TextMapGetter<Record<string, unknown>> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => {
    const v = carrier[key];
    return typeof v === 'string' ? v : undefined;
  },
};

const headerGetter: TextMapGetter<ParentSources['header']> = {
  keys: () => ['traceparent', 'tracestate', 'baggage'],
  get: (header, key) => header(key),
};

export function chooseParent(src: ParentSources): ParentChoice {
  const active = context.active();
  const fromMeta =
    src.meta && typeof src.meta.traceparent === 'string' ? validSpan(propagation.extract(active, src.meta, metaGetter)) : undefined;

  // An ambient span (e.g. HTTP server instrumentation) already descends from
  // the header context, so it is preferred to re-extracting the header.
  const ambient = validSpan(active);
  const fromHttp =
    ambient ?? (src.header('traceparent') ? validSpan(propagation.extract(active, src.header, headerGetter)) : undefined);

  if (fromMeta) {
    const other = fromHttp && trace.getSpanContext(fromHttp);
    const mine = trace.getSpanContext(fromMeta);
    const links = other && mine && other.spanId !== mine.spanId ? [{ context: other, attributes: { 'mcptrail.link': 'http' } }] : undefined;
    return { parent: fromMeta, links };
  }
  return { parent: fromHttp ?? active, links: undefined };
}

function validSpan(ctx: Context): Context | undefined {
  const sc: SpanContext | undefined = trace.getSpanContext(ctx);
  return sc && isSpanContextValid(sc) ? ctx : undefined;
}
