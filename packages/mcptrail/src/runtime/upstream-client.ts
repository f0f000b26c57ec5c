/**
 * HTTP client for a tool's upstream API. Inside a tool call it opens a CLIENT
 * span per request sent, propagates trace context, the call id and (for
 * writes) an Idempotency-Key, derives every timeout from the call's remaining
 * budget, retries only retry-safe calls (full jitter, Retry-After honoured,
 * never past the budget), passes each attempt through the tenant × upstream
 * circuit breaker, authenticates with the tenant's own upstream token (never
 * the agent's), and counts all of it on the CallContext for the record.
 */
import { randomUUID } from 'node:crypto';
import { context, propagation, SpanKind, SpanStatusCode, trace, type Attributes } from '@opentelemetry/api';
import { currentCall, type CallContext } from '../context/index.js';
import { CredentialError, type CredentialStore } from './credentials/index.js';
import { Deadline } from './deadline.js';
import { UpstreamError, UpstreamNetworkError, UpstreamResponseTooLargeError, UpstreamTimeoutError } from './errors.js';
import {
  CircuitBreakers,
  classify,
  newRetryStats,
  RetryPolicy,
  type CircuitBreakersOptions,
  type RetryOptions,
} from './resilience/index.js';
import { buildUpstreamUrl, type PathParams, type QueryValue } from './url.js';

export interface UpstreamClientOptions {
  /** Short name of the upstream, used in span attributes, error messages and breaker keys. */
  name: string;
  baseUrl: string;
  /** Upper bound per request, also outside a call. Default 10,000 ms. */
  defaultTimeoutMs?: number;
  tracerName?: string;
  /**
   * The upstream deduplicates writes by `Idempotency-Key` (Stripe, HubSpot...),
   * which makes keyed writes retry-safe. Default false: writes run once.
   */
  honoursIdempotencyKey?: boolean;
  /** Retries of retry-safe requests: a policy, its options, or false. Default: 3 attempts, full jitter. */
  retry?: RetryPolicy | RetryOptions | false;
  /** Breakers per tenant × upstream (share one instance between clients of one upstream), or false. Default: one set per client. */
  breakers?: CircuitBreakers | CircuitBreakersOptions | false;
  /**
   * Largest response body read, in bytes (default 10 MiB). A larger answer
   * fails the request with UpstreamResponseTooLargeError (never retried);
   * what was read is discarded.
   */
  maxResponseBytes?: number;
  /**
   * The tenants' upstream OAuth tokens: the client sets `Authorization:
   * Bearer <tenant token>` itself, and a 401 invalidates the token and resends
   * once with a refreshed one.
   */
  credentials?: CredentialStore;
}

export type { QueryValue, PathParams };

export interface UpstreamRequest {
  method: string;
  /**
   * The path, relative to the base URL's. A template with `{name}`
   * placeholders (`/v1/deals/{id}`) is filled from `params` (URL-encoded) and
   * recorded as the template; a plain path is recorded with every segment
   * that is not a fixed-looking literal redacted.
   */
  path: string;
  /** Values of the path template's placeholders. */
  params?: PathParams;
  query?: Record<string, QueryValue | readonly QueryValue[]>;
  /** Objects are sent as JSON; strings and bytes as given. */
  body?: unknown;
  headers?: Record<string, string>;
  /** Overrides the key derived from the call (writes only). */
  idempotencyKey?: string;
  /** Retry class; default from the method (GET/HEAD/OPTIONS read, the rest write). */
  kind?: 'read' | 'write';
  /** Overrides the client's `honoursIdempotencyKey` for this endpoint (e.g. a non-idempotent POST). */
  honoursIdempotencyKey?: boolean;
  /** Per-request bound; the call's remaining budget still applies. */
  timeoutMs?: number;
  /** Overrides the client's `maxResponseBytes` for this request. */
  maxResponseBytes?: number;
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

const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function createUpstreamClient(opts: UpstreamClientOptions): UpstreamClient {
  const base = new URL(opts.baseUrl);
  const defaultTimeoutMs = opts.defaultTimeoutMs ?? 10_000;
  const tracer = trace.getTracer(opts.tracerName ?? 'mcptrail');
  const serverAddress = base.hostname;
  const serverPort = Number(base.port) || (base.protocol === 'https:' ? 443 : 80);
  const retry = opts.retry === false ? new RetryPolicy({ maxAttempts: 1 }) : opts.retry instanceof RetryPolicy ? opts.retry : new RetryPolicy(opts.retry);
  const breakers = opts.breakers === false ? undefined : opts.breakers instanceof CircuitBreakers ? opts.breakers : new CircuitBreakers(opts.breakers);
  const credentials = opts.credentials;
  const maxResponseBytes = opts.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;

  async function request<T>(req: UpstreamRequest): Promise<UpstreamResponse<T>> {
    const method = req.method.toUpperCase();
    const { url, recorded: urlFull, template } = buildUpstreamUrl(base, req.path, req.params, req.query);
    const call = currentCall();
    const tenantId = call?.tenantId ?? '';
    const kind = req.kind ?? (READ_METHODS.has(method) ? 'read' : 'write');
    const idempotencyKey = kind === 'write' ? (req.idempotencyKey ?? writeKey(call)) : undefined;
    const safety = classify({
      method,
      kind,
      idempotencyKey,
      upstreamHonoursIdempotency: req.honoursIdempotencyKey ?? opts.honoursIdempotencyKey ?? false,
    });
    const stats = newRetryStats();
    const requestBound = req.timeoutMs ?? defaultTimeoutMs;
    const bodyLimit = req.maxResponseBytes ?? maxResponseBytes;
    let sends = 0;
    let authResends = 0;

    const send = async (token: string | undefined): Promise<UpstreamResponse<T>> => {
      const resendCount = sends++;
      if (call) call.upstreamCalls++;
      const budgetLeft = call ? Deadline.of(call).timeoutFor() : Infinity;
      const timeoutMs = Math.min(requestBound, budgetLeft);

      const attributes: Attributes = {
        'http.request.method': method,
        'url.full': urlFull,
        'server.address': serverAddress,
        'server.port': serverPort,
        'mcptrail.upstream.name': opts.name,
      };
      if (template) attributes['url.template'] = template;
      if (resendCount > 0) attributes['http.request.resend_count'] = resendCount;
      if (idempotencyKey) attributes['mcptrail.upstream.idempotent'] = true;
      // semconv: `{method} {url.template}` when the template is known, else the method alone.
      const span = tracer.startSpan(template ? `${method} ${template}` : method, { kind: SpanKind.CLIENT, attributes });
      try {
        if (timeoutMs <= 0) throw new UpstreamTimeoutError(opts.name, method, 0, true);
        const headers = requestHeaders(req);
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
        if (idempotencyKey) headers['idempotency-key'] = idempotencyKey;
        if (token !== undefined) headers.authorization = `Bearer ${token}`;

        const timeoutSignal = AbortSignal.timeout(timeoutMs);
        const signal = call?.signal ? AbortSignal.any([timeoutSignal, call.signal]) : timeoutSignal;
        let res: Response;
        let parsed: unknown;
        try {
          res = await fetch(url, { method, headers, body, signal });
          parsed = await readBody(res, bodyLimit, opts.name, method);
        } catch (err) {
          if (err instanceof UpstreamResponseTooLargeError) throw err;
          if (timeoutSignal.aborted) throw new UpstreamTimeoutError(opts.name, method, timeoutMs, budgetLeft <= requestBound);
          // The call's signal fires at its deadline too (reason: the pipeline's CallDeadlineError).
          if (call?.signal?.aborted && (call.signal.reason as { budgetExhausted?: unknown } | undefined)?.budgetExhausted === true) {
            throw new UpstreamTimeoutError(opts.name, method, timeoutMs, true);
          }
          if (call?.signal?.aborted) throw new UpstreamNetworkError(opts.name, method, 'ABORTED');
          throw new UpstreamNetworkError(opts.name, method, systemCode(err));
        }
        span.setAttribute('http.response.status_code', res.status);
        if (res.status >= 400) {
          span.setAttribute('error.type', String(res.status));
          span.setStatus({ code: SpanStatusCode.ERROR });
          throw new UpstreamError(opts.name, method, res.status, parsed, res.headers.get('retry-after') ?? undefined);
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
    };

    /** One attempt: a 401 with our token means it went stale (revoked, rotated): refresh and resend once. */
    const attempt = async (token: string | undefined): Promise<UpstreamResponse<T>> => {
      try {
        return await send(token);
      } catch (err) {
        if (!credentials || token === undefined || !(err instanceof UpstreamError) || err.status !== 401) throw err;
        // Invalidation is advisory: the refresh below replaces the token either way.
        await credentials.invalidate(tenantId, token).catch(() => false);
        authResends++;
        return send(await bearerToken(credentials, tenantId, call));
      }
    };

    try {
      return await retry.execute(
        async () => {
          // The token is taken outside the breaker: a credential failure says nothing about the upstream's health.
          const token = credentials ? await bearerToken(credentials, tenantId, call) : undefined;
          return breakers ? breakers.execute(tenantId, opts.name, () => attempt(token)) : attempt(token);
        },
        { safety, remainingMs: call ? () => Deadline.of(call).remainingMs() : undefined, signal: call?.signal, stats },
      );
    } finally {
      if (call) call.upstreamRetries += stats.retries + authResends;
    }
  }

  return { name: opts.name, request };
}

/** The tenant's upstream access token; refreshes and refresh failures are counted on the call. */
async function bearerToken(credentials: CredentialStore, tenantId: string, call: CallContext | undefined): Promise<string> {
  try {
    const grant = await credentials.acquire(tenantId);
    if (grant.refresh === 'performed' && call) call.authRefresh++;
    return grant.accessToken;
  } catch (err) {
    if (call && err instanceof CredentialError) {
      call.authRefreshFailed++;
      call.authRefreshReason = err.reason;
    }
    throw err;
  }
}

/**
 * The call's idempotency key for its n-th upstream write (`key`, `key.2`, ...),
 * the same on a replayed call; a fresh key outside idempotent calls, so at
 * least the retries of this one request dedupe upstream.
 */
function writeKey(call: CallContext | undefined): string {
  if (!call?.idempotencyKey) return randomUUID();
  const n = ++call.upstreamWrites;
  return n === 1 ? call.idempotencyKey : `${call.idempotencyKey}.${n}`;
}

function requestHeaders(req: UpstreamRequest): Record<string, string> {
  const headers: Record<string, string> = { accept: 'application/json' };
  for (const [k, v] of Object.entries(req.headers ?? {})) headers[k.toLowerCase()] = v;
  return headers;
}

const DEFAULT_MAX_RESPONSE_BYTES = 10 * 1024 * 1024;

/** The body as text, read up to `limit` bytes: past it the stream is cancelled and the request fails. */
async function readBodyText(res: Response, limit: number, upstream: string, method: string): Promise<string> {
  const declared = Number(res.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > limit) {
    await res.body?.cancel();
    throw new UpstreamResponseTooLargeError(upstream, method, limit);
  }
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel();
      throw new UpstreamResponseTooLargeError(upstream, method, limit);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, total).toString('utf8');
}

async function readBody(res: Response, limit: number, upstream: string, method: string): Promise<unknown> {
  const text = await readBodyText(res, limit, upstream, method);
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
