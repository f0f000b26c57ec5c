import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { IdempotencyBackend } from './backends.js';
import { IdempotencyConflictError, IdempotencyWaitTimeoutError } from './errors.js';
import { idempotencyKey, requestFingerprint, type IdempotencyRequest } from './key.js';

export const DEFAULT_RESULT_TTL_MS = 24 * 60 * 60 * 1000;

export interface IdempotencyStoreOptions {
  /** How long a completed result is replayed. Default 24 h. */
  ttlMs?: number;
  /**
   * Lease of an in-progress entry: if its holder dies, duplicates may run
   * again after this. Keep it above the longest call budget. Default 120 s.
   */
  pendingTtlMs?: number;
  /** How long a duplicate waits for the first holder by default. Default 10 s. */
  waitTimeoutMs?: number;
  /** Storage key prefix. */
  keyPrefix?: string;
}

/** This caller runs the work; it must call exactly one of complete / fail. */
export interface BegunNew {
  state: 'new';
  key: string;
  /** Stores the (JSON-serialisable) result for replays. false if the lease was lost meanwhile. */
  complete(result: unknown): Promise<boolean>;
  /** Frees the key so a retry can run the work. */
  fail(): Promise<void>;
}

export interface BegunReplay {
  state: 'replay';
  key: string;
  result: unknown;
}

export type Begun = BegunNew | BegunReplay;

interface Entry {
  s: 'p' | 'd';
  o: string;
  f: string;
  r?: unknown;
}

export class IdempotencyStore {
  private readonly ttlMs: number;
  private readonly pendingTtlMs: number;
  private readonly waitTimeoutMs: number;
  private readonly prefix: string;

  constructor(
    private readonly backend: IdempotencyBackend,
    options: IdempotencyStoreOptions = {},
  ) {
    this.ttlMs = options.ttlMs ?? DEFAULT_RESULT_TTL_MS;
    this.pendingTtlMs = options.pendingTtlMs ?? 120_000;
    this.waitTimeoutMs = options.waitTimeoutMs ?? 10_000;
    this.prefix = `${options.keyPrefix ?? 'mcptrail:'}idem:`;
  }

  /**
   * Claims the key before the work starts. A duplicate of a completed call
   * replays its result; a duplicate of one in progress waits for it (polling,
   * bounded by `waitTimeoutMs`), then replays it, or runs the work itself if
   * the first attempt failed.
   */
  async begin(req: IdempotencyRequest, opts: { waitTimeoutMs?: number; signal?: AbortSignal } = {}): Promise<Begun> {
    const key = idempotencyKey(req);
    const storageKey = `${this.prefix}${encodeURIComponent(req.tenantId)}:${key}`;
    const fingerprint = requestFingerprint(req);
    const waitUntil = Date.now() + (opts.waitTimeoutMs ?? this.waitTimeoutMs);
    let pollMs = 10;
    for (;;) {
      const owner = randomUUID();
      const pending: Entry = { s: 'p', o: owner, f: fingerprint };
      if (await this.backend.claim(storageKey, JSON.stringify(pending), this.pendingTtlMs)) {
        return this.newHolder(key, storageKey, owner, fingerprint);
      }
      const raw = await this.backend.read(storageKey);
      if (raw !== null) {
        const entry = JSON.parse(raw) as Entry;
        if (entry.f !== fingerprint) throw new IdempotencyConflictError();
        if (entry.s === 'd') return { state: 'replay', key, result: entry.r ?? null };
      }
      // In progress (or released between claim and read): wait and try again.
      const left = waitUntil - Date.now();
      if (left <= 0) throw new IdempotencyWaitTimeoutError();
      await sleep(Math.min(pollMs, left), undefined, { signal: opts.signal });
      pollMs = Math.min(pollMs * 2, 200);
    }
  }

  private newHolder(key: string, storageKey: string, owner: string, fingerprint: string): BegunNew {
    let settled = false;
    return {
      state: 'new',
      key,
      complete: async (result) => {
        if (settled) return false;
        settled = true;
        const done: Entry = { s: 'd', o: owner, f: fingerprint, r: result ?? null };
        return this.backend.settle(storageKey, owner, JSON.stringify(done), this.ttlMs);
      },
      fail: async () => {
        if (settled) return;
        settled = true;
        await this.backend.release(storageKey, owner);
      },
    };
  }
}
