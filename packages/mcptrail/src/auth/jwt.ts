import type { JWTPayload, JWTVerifyGetKey } from 'jose';
import { AuthError, type AuthErrorCode } from './errors.js';
import type { Principal } from './principal.js';
import { createVerifiedTokenCache } from './jwt-cache.js';

export interface JwtOptions {
  /** Shared secret for HS256. */
  secret?: string | Uint8Array;
  /** JWKS endpoint for RS256 / ES256 keys. */
  jwksUrl?: string;
  issuer: string;
  audience: string;
  /** Accepted algorithms; defaults follow the configured key material. */
  algorithms?: string[];
  clockToleranceSec?: number;
  /** Verified tokens kept (signature checked once per token). Default 10,000; 0 turns the cache off. */
  cacheMaxEntries?: number;
  /** Longest a verified token is trusted without re-verification (key rotation bound). Default 60 s. */
  cacheMaxAgeMs?: number;
}

export type JwtVerifier = (token: string) => Promise<Principal>;

const ASYMMETRIC_DEFAULT = ['RS256', 'ES256'];

/** jose (ESM only) is imported on the first token, not when mcptrail is: most servers start long before. */
let jose: Promise<typeof import('jose')> | undefined;
const loadJose = () => (jose ??= import('jose'));

export function createJwtVerifier(opts: JwtOptions): JwtVerifier {
  if (!opts.secret && !opts.jwksUrl) throw new Error('jwt auth needs a secret or a jwksUrl');
  const secret = typeof opts.secret === 'string' ? new TextEncoder().encode(opts.secret) : opts.secret;
  const jwksUrl = opts.jwksUrl ? new URL(opts.jwksUrl) : undefined;
  let jwks: JWTVerifyGetKey | undefined;
  const algorithms =
    opts.algorithms ?? [...(secret ? ['HS256'] : []), ...(jwksUrl ? ASYMMETRIC_DEFAULT : [])];

  // Pick key material by the header's algorithm family, so an HS token can
  // never be checked against a public key (or the reverse).
  const getKey: JWTVerifyGetKey = async (header, token) => {
    if (header.alg.startsWith('HS')) {
      if (!secret) throw new AuthError('invalid_token');
      return secret;
    }
    if (!jwksUrl) throw new AuthError('invalid_token');
    jwks ??= (await loadJose()).createRemoteJWKSet(jwksUrl);
    return jwks(header, token);
  };

  const verifyOptions = {
    issuer: opts.issuer,
    audience: opts.audience,
    algorithms,
    clockTolerance: opts.clockToleranceSec ?? 5,
    requiredClaims: ['exp'],
  };

  const cache = createVerifiedTokenCache({ maxEntries: opts.cacheMaxEntries, maxAgeMs: opts.cacheMaxAgeMs, clockToleranceSec: verifyOptions.clockTolerance });

  return async (token) => {
    const cached = cache.get(token);
    if (cached) return { ...cached, scopes: [...cached.scopes] };
    let payload: JWTPayload;
    try {
      const { jwtVerify } = await loadJose();
      ({ payload } = await jwtVerify(token, getKey, verifyOptions));
    } catch (err) {
      throw new AuthError(mapJoseError(err));
    }
    const principal = principalFromClaims(payload);
    cache.set(token, principal);
    // Callers get their own copy: the cached one is never handed out.
    return { ...principal, scopes: [...principal.scopes] };
  };
}

function mapJoseError(err: unknown): AuthErrorCode {
  if (err instanceof AuthError) return err.code;
  const e = err as { code?: string; claim?: string };
  switch (e?.code) {
    case 'ERR_JWT_EXPIRED':
      return 'expired_token';
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
      if (e.claim === 'aud') return 'wrong_audience';
      if (e.claim === 'exp') return 'missing_claims';
      return 'invalid_token';
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return 'bad_signature';
    case 'ERR_JWKS_NO_MATCHING_KEY':
      return 'unknown_key';
    default:
      return 'invalid_token';
  }
}

function principalFromClaims(claims: JWTPayload): Principal {
  const tenantId = stringClaim(claims.tenant_id);
  const agentId = stringClaim(claims.agent_id) || stringClaim(claims.azp) || stringClaim(claims.client_id);
  if (!tenantId || !agentId) throw new AuthError('missing_claims');
  return {
    tenantId,
    agentId,
    subject: stringClaim(claims.sub),
    scopes: scopesFromClaims(claims),
    method: 'jwt',
    expiresAt: typeof claims.exp === 'number' ? claims.exp : undefined,
  };
}

function stringClaim(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

function scopesFromClaims(claims: JWTPayload): string[] {
  const { scope, scp } = claims as { scope?: unknown; scp?: unknown };
  if (typeof scope === 'string') return scope.split(' ').filter(Boolean);
  if (Array.isArray(scp)) return scp.filter((s): s is string => typeof s === 'string');
  if (typeof scp === 'string') return scp.split(' ').filter(Boolean);
  return [];
}
