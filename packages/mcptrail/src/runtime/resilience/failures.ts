/** Statuses worth another attempt: throttled or a gateway/upstream hiccup. */
export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([429, 502, 503, 504]);

export type FailureKind = 'network' | 'timeout' | 'http' | 'other';

export interface Failure {
  kind: FailureKind;
  status?: number;
  /** From a Retry-After answer, in ms from now. */
  retryAfterMs?: number;
}

/** System error codes of a failed connection (on the error or its undici `cause`). */
export const NETWORK_CODES: ReadonlySet<string> = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT']);

/**
 * Parses `Retry-After`: delta-seconds or an HTTP date. Returns ms from `now`
 * (0 for a date in the past), undefined when absent or unparseable.
 */
export function parseRetryAfter(value: string | number | null | undefined, now = Date.now()): number | undefined {
  if (value === null || value === undefined || value === '') return undefined;
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value * 1000 : undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

type Headerish = { get?: (name: string) => string | null } | Record<string, unknown>;

function retryAfterOf(e: { retryAfter?: unknown; headers?: Headerish }): string | number | undefined {
  if (typeof e.retryAfter === 'string' || typeof e.retryAfter === 'number') return e.retryAfter;
  const h = e.headers;
  if (!h) return undefined;
  const v = typeof h.get === 'function' ? (h.get as (n: string) => string | null)('retry-after') : (h as Record<string, unknown>)['retry-after'];
  return typeof v === 'string' ? v : undefined;
}

/**
 * Reads an error structurally (the upstream client's UpstreamError /
 * UpstreamTimeoutError / UpstreamNetworkError, fetch errors, or anything with
 * `status` and `retryAfter` or `headers`). Never reads the message.
 */
export function failureOf(err: unknown): Failure {
  if (typeof err !== 'object' || err === null) return { kind: 'other' };
  const e = err as { name?: string; code?: string; status?: number; statusCode?: number; cause?: { code?: string }; retryAfter?: unknown; headers?: Headerish };
  if (e.name === 'UpstreamUnavailableError' || e.name === 'BrokenCircuitError') return { kind: 'other' };
  if (e.name === 'UpstreamTimeoutError' || e.name === 'TimeoutError' || e.code === 'ETIMEDOUT' || e.code === 'UND_ERR_HEADERS_TIMEOUT') return { kind: 'timeout' };
  if (e.name === 'UpstreamNetworkError' || NETWORK_CODES.has(e.code ?? '') || NETWORK_CODES.has(e.cause?.code ?? '')) return { kind: 'network' };
  const status = e.status ?? e.statusCode;
  if (typeof status === 'number') return { kind: 'http', status, retryAfterMs: parseRetryAfter(retryAfterOf(e)) };
  return { kind: 'other' };
}

export function isRetryableFailure(f: Failure): boolean {
  return f.kind === 'network' || f.kind === 'timeout' || (f.kind === 'http' && RETRYABLE_STATUSES.has(f.status!));
}

/** What trips a breaker: the upstream looks broken (not a 4xx, not a throttle). */
export function isBreakerFailure(err: unknown): boolean {
  const f = failureOf(err);
  return f.kind === 'network' || f.kind === 'timeout' || (f.kind === 'http' && f.status! >= 500);
}
