import type { AuthError } from './errors.js';

export interface ChallengeOptions {
  /** URL of this resource's RFC 9728 metadata document. */
  resourceMetadataUrl?: string;
  /** Scope to announce (step-up), for insufficient_scope challenges. */
  scope?: string;
}

/**
 * RFC 6750 §3 / RFC 9728 §5.1 challenge for a 401 answer. A request that
 * carried no credentials gets no error code (RFC 6750 §3.1); every other
 * failure is `invalid_token` with a fixed, token-free description.
 */
export function wwwAuthenticate(error: AuthError, opts: ChallengeOptions = {}): string {
  const params: string[] = [];
  if (error.code !== 'missing_token') {
    params.push(`error="invalid_token"`, `error_description="${quote(error.message)}"`);
  }
  if (opts.scope) params.push(`scope="${quote(opts.scope)}"`);
  if (opts.resourceMetadataUrl) params.push(`resource_metadata="${quote(opts.resourceMetadataUrl)}"`);
  return params.length ? `Bearer ${params.join(', ')}` : 'Bearer';
}

/** The 403 step-up challenge for a token lacking a scope. */
export function insufficientScopeChallenge(scope: string, opts: ChallengeOptions = {}): string {
  const params = [`error="insufficient_scope"`, `scope="${quote(scope)}"`];
  if (opts.resourceMetadataUrl) params.push(`resource_metadata="${quote(opts.resourceMetadataUrl)}"`);
  return `Bearer ${params.join(', ')}`;
}

function quote(s: string): string {
  return s.replace(/[\\"]/g, '\\$&').replace(/[\r\n]/g, ' ');
}
