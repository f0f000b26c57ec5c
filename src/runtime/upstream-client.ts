/**
 * HTTP client for a tool's upstream API. Inside a tool call it opens a CLIENT
 * span, propagates trace context and the call id, derives its timeout from
 * the call's remaining budget, and counts the call on the CallContext.
 */
import { context, propagation, SpanKind, SpanStatusCode, trace, type Attributes } from '@opentelemetry/api';
import { currentCall } from '../context/index.js';
import { Deadline } from './deadline.js';
import { UpstreamError, UpstreamNetworkError, UpstreamTimeoutError } from './errors.js';
import { sanitizeUrl } from './url.js';

export interface UpstreamClientOptions {
  /** Short name of the upstream, used in span attributes and error messages. */
  name: string;
  baseUrl: string;
  /** Upper bound per request, also outside a call. Default 10,000 ms. */
  defaultTimeoutMs?: number;
  tracerName?: string;
}

export type QueryValue = string | number | boolean | undefined | null;

export interface UpstreamRequest {
  method: string;
  path: string;
  query?: Record<string, QueryValue | readonly QueryValue[]>;
  /** Objects are sent as JSON; strings and bytes as given. */
  body?: unknown;
  headers?: Record<string, string>;
  idempotencyKey?: string;
  /** Per-request bound; the call's remaining budget still applies. */
  timeoutMs?: number;
}

export interface UpstreamResponse<T = unknown> {
  status: number;
  headers: Record<string, string>;
  /** Parsed JSON when the response says JSON, else text. */
  body: T;
}

export interface UpstreamClient {
  readonly name: string;
  request<T = unknown>(req: UpstreamRequest): Promise<UpstreamResponse<T>>;
}

export function createUpstreamClient(opts: UpstreamClientOptions): UpstreamClient {
  const base = new URL(opts.baseUrl);
  const defaultTimeoutMs = opts.defaultTimeoutMs ?? 10_000;
  const tracer = trace.getTracer(opts.tracerName ?? 'mcptrail');
  const serverAddress = base.hostname;
  const serverPort = Number(base.port) || (base.protocol === 'https:' ? 443 : 80);

  async function request<T>(req: UpstreamRequest): Promise<UpstreamResponse<T>> {
    const method = req.method.toUpperCase();
    const url = buildUrl(base, req.path, req.query);
    const call = currentCall();
    const requestBound = req.timeoutMs ?? defaultTimeoutMs;
    const budgetLeft = call ? Deadline.of(call).timeoutFor() : Infinity;
    const timeoutMs = Math.min(requestBound, budgetLeft);
    const budgetBound = budgetLeft <= requestBound;

    const attributes: Attributes = {
      'http.request.method': method,
      'url.full': sanitizeUrl(url),
      'server.address': serverAddress,
      'server.port': serverPort,
      'mcptrail.upstream.name': opts.name,
    };
    if (req.idempotencyKey) attributes['mcptrail.upstream.idempotent'] = true;
    const span = tracer.startSpan(method, { kind: SpanKind.CLIENT, attributes });
    if (call) call.upstreamCalls++;

    try {
      if (timeoutMs <= 0) throw new UpstreamTimeoutError(opts.name, method, 0, true);

      const headers: Record<string, string> = { accept: 'application/json' };
      for (const [k, v] of Object.entries(req.headers ?? {})) headers[k.toLowerCase()] = v;
      let body: BodyInit | undefined;
      if (req.body !== undefined) {
        if (typeof req.body === 'string' || req.body instanceof Uint8Array) {
          body = req.body as BodyInit;
        } else {
          body = JSON.stringify(req.body);
          headers['content-type'] ??= 'application/json';
        }
      }
      // Context of the CLIENT span, so the upstream's parent is this span.
      propagation.inject(trace.setSpan(context.active(), span), headers);
      if (call) headers['x-request-id'] = call.callId;
      if (req.idempotencyKey) headers['idempotency-key'] = req.idempotencyKey;

      const timeoutSignal = AbortSignal.timeout(timeoutMs);
      const signal = call?.signal ? AbortSignal.any([timeoutSignal, call.signal]) : timeoutSignal;

      let res: Response;
      let parsed: unknown;
      try {
        res = await fetch(url, { method, headers, body, signal });
        parsed = await readBody(res);
      } catch (err) {
        if (timeoutSignal.aborted) throw new UpstreamTimeoutError(opts.name, method, timeoutMs, budgetBound);
        if (call?.signal?.aborted) throw new UpstreamNetworkError(opts.name, method, 'ABORTED');
        throw new UpstreamNetworkError(opts.name, method, systemCode(err));
      }

      span.setAttribute('http.response.status_code', res.status);
      if (res.status >= 400) {
        span.setAttribute('error.type', String(res.status));
        span.setStatus({ code: SpanStatusCode.ERROR });
        throw new UpstreamError(opts.name, method, res.status, parsed);
      }
      return { status: res.status, headers: Object.fromEntries(res.headers), body: parsed as T };
    } catch (err) {
      if (!(err instanceof UpstreamError)) {
        span.setAttribute('error.type', err instanceof Error ? err.name : 'unknown');
        span.setStatus({ code: SpanStatusCode.ERROR });
      }
      throw err;
    } finally {
      span.end();
    }
  }

  return { name: opts.name, request };
}

function buildUrl(base: URL, path: string, query: UpstreamRequest['query']): URL {
  // Resolve relative to the base's path, so baseUrl http://h/api + /v1/x → http://h/api/v1/x.
  const url = new URL(base.href.replace(/\/+$/, '') + (path.startsWith('/') ? path : `/${path}`));
  if (query) {
    for (const [key, value] of Object.entries(query)) {
      const values = Array.isArray(value) ? value : [value];
      for (const v of values) if (v !== undefined && v !== null) url.searchParams.append(key, String(v));
    }
  }
  return url;
}

async function readBody(res: Response): Promise<unknown> {
  const text = await res.text();
  if (!text) return undefined;
  const type = res.headers.get('content-type') ?? '';
  if (/[/+]json\b/i.test(type)) {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return text;
}

/** ECONNREFUSED and friends, from undici's `cause`. */
function systemCode(err: unknown): string | undefined {
  const cause = (err as { cause?: { code?: unknown } } | null)?.cause;
  const code = cause?.code;
  return typeof code === 'string' && /^[A-Z_]{2,32}$/.test(code) ? code : undefined;
}
