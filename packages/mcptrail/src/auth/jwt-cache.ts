/**
 * Verified JWTs by token string, so a token's signature is checked once
 * rather than on every request of an agent's session. An entry lives until
 * the token's `exp` (with the same clock tolerance as verification) but at
 * most `maxAgeMs`, so a key withdrawn from the JWKS stops being accepted
 * soon after. Bounded LRU (Map order); failures are never cached.
 */
import type { Principal } from './principal.js';

export interface VerifiedTokenCache {
  get(token: string): Principal | undefined;
  set(token: string, principal: Principal): void;
}

export function createVerifiedTokenCache(opts: { maxEntries?: number; maxAgeMs?: number; clockToleranceSec?: number } = {}): VerifiedTokenCache {
  const maxEntries = opts.maxEntries ?? 10_000;
  const maxAgeMs = opts.maxAgeMs ?? 60_000;
  const toleranceMs = (opts.clockToleranceSec ?? 0) * 1000;
  const entries = new Map<string, { principal: Principal; until: number }>();
  return {
    get(token) {
      const e = entries.get(token);
      if (!e) return undefined;
      if (Date.now() >= e.until) {
        entries.delete(token);
        return undefined;
      }
      // Most recently used last.
      entries.delete(token);
      entries.set(token, e);
      return e.principal;
    },
    set(token, principal) {
      if (maxEntries <= 0 || principal.expiresAt === undefined) return;
      // jose refuses once exp <= now - tolerance; the entry ends at the same instant.
      const until = Math.min(principal.expiresAt * 1000 + toleranceMs, Date.now() + maxAgeMs);
      if (until <= Date.now()) return;
      entries.delete(token);
      entries.set(token, { principal, until });
      if (entries.size > maxEntries) entries.delete(entries.keys().next().value!);
    },
  };
}
