import { createApiKeyVerifier, type ApiKeyEntry } from './api-keys.js';
import { AuthError } from './errors.js';
import { createJwtVerifier, type JwtOptions } from './jwt.js';
import type { Principal } from './principal.js';

export interface AuthenticatorOptions {
  jwt?: JwtOptions;
  apiKeys?: Record<string, ApiKeyEntry>;
}

export interface Authenticator {
  /** Resolves the verified principal, or throws an AuthError. */
  authenticate(authorizationHeader: string | undefined): Promise<Principal>;
}

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;
/** Compact JWS: three base64url segments, the header being a JSON object ("eyJ"). */
const JWT_SHAPE = /^eyJ[\w-]*\.[\w-]*\.[\w-]*$/;

export function createAuthenticator(opts: AuthenticatorOptions): Authenticator {
  const verifyJwt = opts.jwt ? createJwtVerifier(opts.jwt) : undefined;
  const verifyApiKey = opts.apiKeys ? createApiKeyVerifier(opts.apiKeys) : undefined;

  return {
    async authenticate(header) {
      if (!header) throw new AuthError('missing_token');
      const token = BEARER.exec(header)?.[1];
      if (!token) throw new AuthError('invalid_token');
      if (JWT_SHAPE.test(token)) {
        if (!verifyJwt) throw new AuthError('invalid_token');
        return verifyJwt(token);
      }
      if (!verifyApiKey) throw new AuthError('invalid_token');
      return verifyApiKey(token);
    },
  };
}
