export const AUTH_ERROR_CODES = [
  'missing_token',
  'invalid_token',
  'expired_token',
  'wrong_audience',
  'bad_signature',
  'unknown_key',
  'missing_claims',
] as const;
export type AuthErrorCode = (typeof AUTH_ERROR_CODES)[number];

/** Fixed, token-free descriptions: safe for logs, challenges and agents. */
const DESCRIPTIONS: Record<AuthErrorCode, string> = {
  missing_token: 'No bearer token was presented',
  invalid_token: 'The bearer token is invalid',
  expired_token: 'The bearer token has expired',
  wrong_audience: 'The bearer token was issued for another audience',
  bad_signature: 'The bearer token signature does not verify',
  unknown_key: 'The bearer token was signed with an unknown key',
  missing_claims: 'The bearer token lacks required claims (tenant_id, agent)',
};

/**
 * Authentication failure. The message is chosen from a fixed table by code,
 * so it can never carry the token or anything derived from it.
 */
export class AuthError extends Error {
  override readonly name = 'AuthError';
  readonly code: AuthErrorCode;

  constructor(code: AuthErrorCode) {
    super(DESCRIPTIONS[code]);
    this.code = code;
  }
}

export function isAuthError(err: unknown): err is AuthError {
  return err instanceof AuthError;
}
