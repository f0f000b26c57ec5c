/**
 * A fake upstream OAuth token endpoint with refresh-token rotation: each
 * refresh token works once; reusing an old one is `invalid_grant`, as with
 * upstreams that rotate.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { RefreshFn, TokenSet } from '../../packages/mcptrail/src/runtime/credentials/index.js';

export interface FakeOAuth {
  refresh: RefreshFn;
  /** Refresh tokens presented, in order. */
  presented: string[];
  /** Seeds the tenant's valid refresh token and returns an already expired token set. */
  seed(tenantId: string, prefix: string): TokenSet;
  revoke(tenantId: string): void;
}

export function fakeOAuth(opts: { latencyMs?: number; ttlMs?: number } = {}): FakeOAuth {
  const valid = new Map<string, string>();
  const presented: string[] = [];
  let n = 0;
  return {
    presented,
    seed(tenantId, prefix) {
      const refreshToken = `${prefix}-rt-0`;
      valid.set(tenantId, refreshToken);
      return { accessToken: `${prefix}-at-0`, refreshToken, expiresAt: Date.now() - 1_000 };
    },
    revoke(tenantId) {
      valid.delete(tenantId);
    },
    async refresh(tenantId, refreshToken) {
      presented.push(refreshToken);
      await sleep(opts.latencyMs ?? 50);
      if (valid.get(tenantId) !== refreshToken) {
        // Like real providers, the error echoes the token: it must never reach logs or errors.
        throw Object.assign(new Error(`invalid_grant: refresh token ${refreshToken} is not valid`), {
          status: 400,
          body: { error: 'invalid_grant', refresh_token: refreshToken },
        });
      }
      n++;
      const prefix = refreshToken.replace(/-rt-\d+$/, '');
      const next = { accessToken: `${prefix}-at-${n}`, refreshToken: `${prefix}-rt-${n}`, expiresAt: Date.now() + (opts.ttlMs ?? 3_600_000) };
      valid.set(tenantId, next.refreshToken);
      return next;
    },
  };
}
