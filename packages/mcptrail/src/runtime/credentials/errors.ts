import { NETWORK_CODES } from '../resilience/failures.js';
import type { RefreshFailureReason } from './types.js';

/**
 * Credential failures. The message names the tenant and reason class only:
 * never a token, never the upstream's message (which may echo one). No
 * `cause` is kept for the same reason.
 */
export class CredentialError extends Error {
  override readonly name = 'CredentialError';
  readonly code: string;

  constructor(
    readonly reason: RefreshFailureReason,
    readonly tenantId: string,
  ) {
    super(`upstream credentials for tenant "${tenantId}" unavailable: ${reason}`);
    this.code = `auth_refresh_${reason}`;
  }
}

/** Thrown by a RefreshFn to name the failure precisely. Its own message is never surfaced. */
export class RefreshError extends Error {
  override readonly name = 'RefreshError';
  constructor(readonly reason: RefreshFailureReason) {
    super(reason);
  }
}

/** Maps whatever a RefreshFn threw to a reason class, reading structure only (never the message). */
export function classifyRefreshError(err: unknown): RefreshFailureReason {
  if (err instanceof RefreshError || err instanceof CredentialError) return err.reason;
  if (typeof err !== 'object' || err === null) return 'unknown';
  const e = err as {
    name?: string;
    code?: string;
    status?: number;
    statusCode?: number;
    error?: unknown;
    body?: { error?: unknown };
    cause?: { code?: string };
  };
  if (e.name === 'TimeoutError' || e.name === 'AbortError' || e.name === 'UpstreamTimeoutError' || e.code === 'ETIMEDOUT') return 'timeout';
  if (e.name === 'UpstreamNetworkError' || NETWORK_CODES.has(e.code ?? '') || NETWORK_CODES.has(e.cause?.code ?? '')) return 'network';
  const oauthError = e.error ?? e.body?.error;
  if (oauthError === 'invalid_grant') return 'invalid_grant';
  if (oauthError === 'invalid_client' || oauthError === 'unauthorized_client') return 'revoked';
  const status = e.status ?? e.statusCode;
  if (typeof status === 'number') {
    if (status >= 500) return 'upstream_5xx';
    if (status === 401 || status === 403) return 'revoked';
    if (status === 400) return 'invalid_grant';
  }
  return 'unknown';
}
