/** One tenant's upstream OAuth tokens. `expiresAt` is epoch milliseconds. */
export interface TokenSet {
  accessToken: string;
  refreshToken: string;
  expiresAt: number;
}

/**
 * Exchanges a refresh token for new tokens (the caller's OAuth client). Omit
 * `refreshToken` in the answer when the upstream does not rotate it. Throw
 * `RefreshError(reason)` to name the failure; other errors are classified.
 */
export type RefreshFn = (
  tenantId: string,
  refreshToken: string,
  signal: AbortSignal,
) => Promise<Omit<TokenSet, 'refreshToken'> & { refreshToken?: string }>;

export const REFRESH_FAILURE_REASONS = [
  'revoked',
  'invalid_grant',
  'network',
  'timeout',
  'lock_timeout',
  'upstream_5xx',
  'not_configured',
  'undecryptable',
  'unknown',
] as const;
export type RefreshFailureReason = (typeof REFRESH_FAILURE_REASONS)[number];

/** Never carries a token: tenant and reason class only. */
export type CredentialEvent =
  | { type: 'refresh'; tenantId: string }
  | { type: 'refresh_failed'; tenantId: string; reason: RefreshFailureReason };

/**
 * How this call got its token: `performed` = it ran the refresh (count it as
 * auth_refresh), `joined` = it waited on a refresh run by another call.
 */
export interface AccessGrant {
  accessToken: string;
  refresh: 'none' | 'performed' | 'joined';
}
