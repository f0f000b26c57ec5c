import { randomUUID, timingSafeEqual } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { CredentialBackend } from './backends.js';
import { plaintextCodec, type TokenCodec } from './cipher.js';
import { CredentialError, classifyRefreshError } from './errors.js';
import type { AccessGrant, CredentialEvent, RefreshFailureReason, RefreshFn, TokenSet } from './types.js';

export interface CredentialStoreOptions {
  backend: CredentialBackend;
  refresh: RefreshFn;
  /** Encryption at rest; required for shared backends (see redisCredentialStore). */
  codec?: TokenCodec;
  /** Refresh this long before expiry. Default 60 s. */
  skewMs?: number;
  /** Upper bound on one refresh call; stays below lockTtlMs so the lock outlives it. Default 8 s. */
  refreshTimeoutMs?: number;
  /** The cross-instance refresh lock's lease. Default 15 s. */
  lockTtlMs?: number;
  /** How long a call waits for another instance's refresh. Default 10 s. */
  lockWaitMs?: number;
  onEvent?: (event: CredentialEvent) => void;
}

interface Loaded {
  raw: string;
  tokens: TokenSet;
}

/**
 * Per-tenant upstream OAuth tokens, refreshed before expiry, one refresh at a
 * time per tenant: in the process (a shared promise) and across instances (a
 * lock in the backend). The refresh token used is always the one read under
 * the lock, and the rotated pair is stored in one write before the lock goes.
 */
/** A refresh's result, and whether this instance called the token endpoint itself. */
interface RefreshOutcome {
  accessToken: string;
  performed: boolean;
}

export class CredentialStore {
  private readonly inflight = new Map<string, Promise<RefreshOutcome>>();
  private readonly codec: TokenCodec;
  private readonly skewMs: number;
  private readonly refreshTimeoutMs: number;
  private readonly lockTtlMs: number;
  private readonly lockWaitMs: number;

  constructor(private readonly options: CredentialStoreOptions) {
    this.codec = options.codec ?? plaintextCodec;
    this.skewMs = options.skewMs ?? 60_000;
    this.lockTtlMs = options.lockTtlMs ?? 15_000;
    this.refreshTimeoutMs = Math.min(options.refreshTimeoutMs ?? 8_000, this.lockTtlMs - 1_000);
    this.lockWaitMs = options.lockWaitMs ?? 10_000;
  }

  /** Stores tokens from an authorization grant (or a manual rotation). */
  async put(tenantId: string, tokens: TokenSet): Promise<void> {
    await this.options.backend.write(tenantId, this.encode(tenantId, tokens));
  }

  async getAccessToken(tenantId: string): Promise<string> {
    return (await this.acquire(tenantId)).accessToken;
  }

  /** Like getAccessToken, and says whether this call refreshed (for the CallRecord). */
  async acquire(tenantId: string): Promise<AccessGrant> {
    const running = this.inflight.get(tenantId);
    if (running) return { accessToken: (await running).accessToken, refresh: 'joined' };
    const current = await this.load(tenantId);
    if (!current) throw this.failure(tenantId, 'not_configured');
    if (this.fresh(current.tokens)) return { accessToken: current.tokens.accessToken, refresh: 'none' };
    // Re-check: another call may have started the refresh while we read.
    const started = this.inflight.get(tenantId);
    if (started) return { accessToken: (await started).accessToken, refresh: 'joined' };
    const mine = this.refreshAcrossInstances(tenantId).finally(() => this.inflight.delete(tenantId));
    this.inflight.set(tenantId, mine);
    // 'performed' only when this process really called the token endpoint, so
    // auth_refresh counts refreshes, not instances that waited for one.
    const outcome = await mine;
    return { accessToken: outcome.accessToken, refresh: outcome.performed ? 'performed' : 'joined' };
  }

  /**
   * After a 401 from upstream: marks the token expired so the next call
   * refreshes, but only if it is still the current one (a concurrent refresh
   * may already have replaced it). Returns whether it was invalidated.
   */
  async invalidate(tenantId: string, accessToken: string): Promise<boolean> {
    const current = await this.load(tenantId);
    if (!current || !sameSecret(current.tokens.accessToken, accessToken)) return false;
    const expired: TokenSet = { ...current.tokens, expiresAt: 0 };
    return this.options.backend.compareAndSet(tenantId, current.raw, this.encode(tenantId, expired));
  }

  private async refreshAcrossInstances(tenantId: string): Promise<RefreshOutcome> {
    const lockToken = randomUUID();
    const giveUpAt = Date.now() + this.lockWaitMs;
    let pollMs = 20;
    for (;;) {
      if (await this.options.backend.lock(tenantId, lockToken, this.lockTtlMs)) {
        try {
          return await this.refreshUnderLock(tenantId);
        } finally {
          // A failed unlock is bounded by the lock's TTL: the next refresh waits at most that long.
          await this.options.backend.unlock(tenantId, lockToken).catch(() => undefined);
        }
      }
      // Another instance is refreshing: its new token appears when it is done.
      await sleep(pollMs);
      pollMs = Math.min(pollMs * 2, 200);
      const seen = await this.load(tenantId);
      if (seen && this.fresh(seen.tokens)) return { accessToken: seen.tokens.accessToken, performed: false };
      if (Date.now() >= giveUpAt) throw this.failure(tenantId, 'lock_timeout');
    }
  }

  private async refreshUnderLock(tenantId: string): Promise<RefreshOutcome> {
    // Re-read under the lock: the previous holder may have rotated the refresh token.
    const current = await this.load(tenantId);
    if (!current) throw this.failure(tenantId, 'not_configured');
    if (this.fresh(current.tokens)) return { accessToken: current.tokens.accessToken, performed: false };

    let next: TokenSet;
    try {
      const answer = await this.options.refresh(tenantId, current.tokens.refreshToken, AbortSignal.timeout(this.refreshTimeoutMs));
      if (typeof answer?.accessToken !== 'string' || !answer.accessToken || !Number.isFinite(answer.expiresAt)) {
        throw new TypeError('refresh answered without accessToken / expiresAt');
      }
      next = {
        accessToken: answer.accessToken,
        refreshToken: answer.refreshToken ?? current.tokens.refreshToken,
        expiresAt: answer.expiresAt,
      };
    } catch (err) {
      throw this.failure(tenantId, classifyRefreshError(err));
    }
    // Access and refresh token in one write, checked against what we read, before the lock is released.
    const stored = await this.options.backend.compareAndSet(tenantId, current.raw, this.encode(tenantId, next));
    if (!stored) {
      // Only if our lock lease ran out and someone else refreshed meanwhile: theirs is the stored truth.
      const theirs = await this.load(tenantId);
      if (theirs && this.fresh(theirs.tokens)) return { accessToken: theirs.tokens.accessToken, performed: true };
    }
    this.options.onEvent?.({ type: 'refresh', tenantId });
    return { accessToken: next.accessToken, performed: true };
  }

  private fresh(tokens: TokenSet): boolean {
    return tokens.expiresAt - this.skewMs > Date.now();
  }

  private async load(tenantId: string): Promise<Loaded | null> {
    const raw = await this.options.backend.read(tenantId);
    if (raw === null) return null;
    try {
      return { raw, tokens: JSON.parse(this.codec.decode(tenantId, raw)) as TokenSet };
    } catch {
      throw this.failure(tenantId, 'undecryptable');
    }
  }

  private encode(tenantId: string, tokens: TokenSet): string {
    const { accessToken, refreshToken, expiresAt } = tokens;
    return this.codec.encode(tenantId, JSON.stringify({ accessToken, refreshToken, expiresAt }));
  }

  private failure(tenantId: string, reason: RefreshFailureReason): CredentialError {
    this.options.onEvent?.({ type: 'refresh_failed', tenantId, reason });
    return new CredentialError(reason, tenantId);
  }
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
