import { timingSafeEqual } from 'node:crypto';
import { sha256Digest } from '../crypto/sha256.js';
import { AuthError } from './errors.js';
import type { Principal } from './principal.js';

export interface ApiKeyEntry {
  agentId: string;
  tenantId: string;
  scopes: string[];
  subject?: string;
}

export type ApiKeyVerifier = (key: string) => Principal;


/**
 * Keys are held only as sha256 digests; every stored digest is compared in
 * constant time (no early exit), so timing reveals neither key nor position.
 */
export function createApiKeyVerifier(keys: Record<string, ApiKeyEntry>): ApiKeyVerifier {
  const entries = Object.entries(keys).map(([key, entry]) => ({
    digest: sha256Digest(key),
    principal: Object.freeze({
      tenantId: entry.tenantId,
      agentId: entry.agentId,
      subject: entry.subject ?? entry.agentId,
      scopes: [...entry.scopes],
      method: 'api_key' as const,
    }),
  }));

  return (key) => {
    const digest = sha256Digest(key);
    let match: (typeof entries)[number] | undefined;
    for (const entry of entries) {
      if (timingSafeEqual(entry.digest, digest) && !match) match = entry;
    }
    if (!match) throw new AuthError('invalid_token');
    return { ...match.principal, scopes: [...match.principal.scopes] };
  };
}
