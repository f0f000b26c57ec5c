import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { sha256Hex } from '../../crypto/sha256.js';
import type { IdempotencyBackend } from './backends.js';
import { IdempotencyConflictError, IdempotencyWaitTimeoutError } from './errors.js';
import { idempotencyKey, requestFingerprint, type IdempotencyRequest } from './key.js';

export const DEFAULT_RESULT_TTL_MS = 24 * 60 * 60 * 1000;

export interface IdempotencyStoreOptions {
  /** How long a key is remembered: a completed result replayed, an interruption reported. Default 24 h. */
  ttlMs?: number;
  /**
   * Lease of an in-progress entry: if its holder dies, the call counts as
   * interrupted after this (never as free to run again). Keep it above the
   * longest call budget. Default 120 s.
   */
  pendingTtlMs?: number;
  /** How long a duplicate waits for the first holder by default. Default 10 s. */
  waitTimeoutMs?: number;
  /** Storage key prefix. */
  keyPrefix?: string;
  /** How often a shared backend is swept for calls whose holder died (once a listener watches). Default pendingTtlMs / 2. */
  sweepEveryMs?: number;
}

export interface BeginOptions {
  waitTimeoutMs?: number;
  signal?: AbortSignal;
  /**
   * The call's intent, stored with the claim before the work starts: what is
   * reported (to `watchInterrupted`) if the call never finishes. Receives the key.
   */
  intent?: (key: string) => unknown;
  /**
   * After an interruption, run again with the same key (the upstream
   * deduplicates by it, so a second run cannot have a second effect).
   * Default false: a retry is answered `interrupted`.
   */
  rerunInterrupted?: boolean;
}

/** This caller runs the work; it must call exactly one of complete / fail / abandon. */
export interface BegunNew {
  state: 'new';
  key: string;
  /** Stores the (JSON-serialisable) result for replays. false if the lease was lost meanwhile. */
  complete(result: unknown): Promise<boolean>;
  /** Frees the key so a retry can run the work (nothing happened). */
  fail(): Promise<void>;
  /** The work ended without a known outcome (its effect may have happened): retries are answered `interrupted`. */
  abandon(): Promise<void>;
}

export interface BegunReplay {
  state: 'replay';
  key: string;
  result: unknown;
}

/** An earlier call with this key never finished: its effect may have happened; it is not run again. */
export interface BegunInterrupted {
  state: 'interrupted';
  key: string;
  /** The earlier call's intent (as given to begin), if it was stored. */
  intent: unknown;
}

export type Begun = BegunNew | BegunReplay | BegunInterrupted;

interface Entry {
  /** pending, done, interrupted */
  s: 'p' | 'd' | 'i';
  o: string;
  f: string;
  r?: unknown;
  /** End of the lease (pending entries). */
  l?: number;
  /** The intent, reported if the call never finishes. */
  c?: unknown;
}

export type InterruptedListener = (intent: unknown) => void;

export class IdempotencyStore {
  private readonly ttlMs: number;
  private readonly pendingTtlMs: number;
  private readonly waitTimeoutMs: number;
  private readonly prefix: string;
  private readonly sweepEveryMs: number;
  private listener: InterruptedListener | undefined;
  private readonly interrupting = new Map<string, Promise<boolean>>();
  private sweeper: NodeJS.Timeout | undefined;

  constructor(
    private readonly backend: IdempotencyBackend,
    options: IdempotencyStoreOptions = {},
  ) {
    this.ttlMs = options.ttlMs ?? DEFAULT_RESULT_TTL_MS;
    this.pendingTtlMs = options.pendingTtlMs ?? 120_000;
    this.waitTimeoutMs = options.waitTimeoutMs ?? 10_000;
    this.prefix = `${options.keyPrefix ?? 'mcptrail:'}idem:`;
    this.sweepEveryMs = options.sweepEveryMs ?? Math.max(1_000, this.pendingTtlMs / 2);
  }

  /**
   * Claims the key before the work starts (with the call's intent, durable
   * when the backend is). A duplicate of a completed call replays its result;
   * a duplicate of one in progress waits for it (polling, bounded by
   * `waitTimeoutMs`), then replays it, or runs the work itself if the first
   * attempt failed; a duplicate of a call that never finished is answered
   * `interrupted` (or runs again with `rerunInterrupted`).
   */
  async begin(req: IdempotencyRequest, opts: BeginOptions = {}): Promise<Begun> {
    const key = idempotencyKey(req);
    // The caller's key is free text (it may embed customer data): storage sees its hash.
    const storageKey = `${this.prefix}${encodeURIComponent(req.tenantId)}:${sha256Hex(key)}`;
    const fingerprint = requestFingerprint(req);
    const waitUntil = Date.now() + (opts.waitTimeoutMs ?? this.waitTimeoutMs);
    const intent = opts.intent?.(key);
    let pollMs = 10;
    for (;;) {
      const owner = randomUUID();
      const leaseUntil = Date.now() + this.pendingTtlMs;
      const pending: Entry = { s: 'p', o: owner, f: fingerprint, l: leaseUntil, c: intent };
      if (await this.backend.claim(storageKey, JSON.stringify(pending), this.ttlMs, leaseUntil)) {
        return this.newHolder(key, storageKey, owner, fingerprint, intent);
      }
      const raw = await this.backend.read(storageKey);
      if (raw !== null) {
        const entry = JSON.parse(raw) as Entry;
        if (entry.f !== fingerprint) throw new IdempotencyConflictError();
        if (entry.s === 'd') return { state: 'replay', key, result: entry.r ?? null };
        if (entry.s === 'i') {
          if (!opts.rerunInterrupted) return { state: 'interrupted', key, intent: entry.c ?? null };
          // The upstream dedupes by this key: take the entry over and run again.
          const taken: Entry = { ...pending, o: owner };
          if (await this.backend.settle(storageKey, entry.o, JSON.stringify(taken), this.ttlMs, leaseUntil)) {
            return this.newHolder(key, storageKey, owner, fingerprint, intent);
          }
          continue;
        }
        // In progress, its holder's lease over: the holder died. Record it as interrupted (once), then answer.
        if (typeof entry.l === 'number' && entry.l < Date.now()) {
          await this.interrupt(storageKey, entry);
          continue;
        }
      }
      // In progress (or released between claim and read): wait and try again.
      const left = waitUntil - Date.now();
      if (left <= 0) throw new IdempotencyWaitTimeoutError();
      await sleep(Math.min(pollMs, left), undefined, { signal: opts.signal });
      pollMs = Math.min(pollMs * 2, 200);
    }
  }

  /**
   * Reports calls that never finished to `listener` (their intents), now and,
   * for a backend several instances share, every `sweepEveryMs`. Intents are
   * reported before the entry turns `interrupted` (see interrupt). Resolves
   * with the number the first sweep found.
   */
  watchInterrupted(listener: InterruptedListener): Promise<number> {
    this.listener = listener;
    if (!this.sweeper) {
      this.sweeper = setInterval(() => void this.sweep().catch(() => 0), this.sweepEveryMs);
      this.sweeper.unref();
    }
    return this.sweep().catch(() => 0);
  }

  /** Turns every in-progress entry whose lease ended into `interrupted`, reporting each; returns how many. */
  async sweep(now = Date.now()): Promise<number> {
    let n = 0;
    for (;;) {
      const keys = await this.backend.expiredLeases(now, 500);
      if (keys.length === 0) return n;
      let progressed = false;
      for (const key of keys) {
        const raw = await this.backend.read(key);
        if (raw === null) continue;
        const entry = JSON.parse(raw) as Entry;
        if (entry.s !== 'p' || typeof entry.l !== 'number' || entry.l >= now) continue;
        if (await this.interrupt(key, entry)) n++;
        progressed = true;
      }
      if (!progressed) return n;
    }
  }

  /** Stops the periodic sweep and closes the backend (a file store syncs its journal and releases its directory). */
  async close(): Promise<void> {
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = undefined;
    await this.backend.close?.();
  }

  /**
   * pending → interrupted, if the entry is still the dead holder's. The intent
   * is reported first: a crash between the two then reports it again on the
   * next sweep (the record has the same call id, so the collector keeps one),
   * never not at all. Within this process one interruption per key runs at a
   * time; across instances sharing a backend a key may be reported twice.
   */
  private interrupt(storageKey: string, entry: Entry): Promise<boolean> {
    const running = this.interrupting.get(storageKey);
    if (running) return running.then(() => false);
    const interrupted: Entry = { s: 'i', o: randomUUID(), f: entry.f, c: entry.c };
    const done = Promise.resolve()
      .then(() => {
        if (entry.c !== undefined) this.report(entry.c);
        return this.backend.settle(storageKey, entry.o, JSON.stringify(interrupted), this.ttlMs);
      })
      .finally(() => this.interrupting.delete(storageKey));
    this.interrupting.set(storageKey, done);
    return done;
  }

  private report(intent: unknown): void {
    try {
      this.listener?.(intent);
    } catch {
      // The listener's failure is its own (a sink counts it).
    }
  }

  private newHolder(key: string, storageKey: string, owner: string, fingerprint: string, intent: unknown): BegunNew {
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
      abandon: async () => {
        if (settled) return;
        settled = true;
        // The call has its own record (its failure): the intent stays for the retry's answer, not reported again.
        const interrupted: Entry = { s: 'i', o: owner, f: fingerprint, c: intent };
        await this.backend.settle(storageKey, owner, JSON.stringify(interrupted), this.ttlMs);
      },
    };
  }
}
