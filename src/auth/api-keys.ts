import * as crypto from 'node:crypto';
import { AuthError } from './errors.js';
import type { Principal } from './principal.js';

export interface ApiKeyEntry {
  agentId: string;
  tenantId: string;
  scopes: string[];
  subject?: string;
}

export type ApiKeyVerifier = (key: string) => Principal;

// crypto.hash (Node >= 20.12) digests in one call, without a Hash object per request.
const oneShotHash = (crypto as { hash?: (algorithm: string, data: string, encoding: 'buffer') => Buffer }).hash;
const sha256 = (s: string): Buffer => (oneShotHash ? oneShotHash('sha256', s, 'buffer') : crypto.createHash('sha256').update(s, 'utf8').digest());

/**
 * Keys are held only as sha256 digests; every stored digest is compared in
 * constant time (no early exit), so timing reveals neither key nor position.
 */
export function createApiKeyVerifier(keys: Record<string, ApiKeyEntry>): ApiKeyVerifier {
  const entries = Object.entries(keys).map(([key, entry]) => ({
    digest: sha256(key),
    principal: Object.freeze({
      tenantId: entry.tenantId,
      agentId: entry.agentId,
      subject: entry.subject ?? entry.agentId,
      scopes: [...entry.scopes],
      method: 'api_key' as const,
    }),
  }));

  return (key) => {
    const digest = sha256(key);
    let match: (typeof entries)[number] | undefined;
    for (const entry of entries) {
      if (crypto.timingSafeEqual(entry.digest, digest) && !match) match = entry;
    }
    if (!match) throw new AuthError('invalid_token');
    return { ...match.principal, scopes: [...match.principal.scopes] };
  };
}
