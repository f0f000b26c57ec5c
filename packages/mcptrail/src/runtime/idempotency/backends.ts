import type { Redis } from 'ioredis';
import { storeCommand } from '../redis.js';

/**
 * The atomic operations the store needs. Values are opaque JSON strings
 * carrying an owner token `o`; settle/release only act for the current owner,
 * so a holder whose lease expired cannot clobber the next holder's entry.
 * Entries in progress are indexed by the end of their lease, so a sweep can
 * find the calls whose holder died (see IdempotencyStore.sweep).
 */
export interface IdempotencyBackend {
  /** SET NX PX: true when this caller now owns the key. The entry is in progress until `leaseUntil`. */
  claim(key: string, value: string, ttlMs: number, leaseUntil: number): Promise<boolean>;
  read(key: string): Promise<string | null>;
  /**
   * Replace the value (and TTL) if `owner` still holds the key. With
   * `leaseUntil` the new value is in progress (re-indexed), without it the
   * entry is settled (out of the index).
   */
  settle(key: string, owner: string, value: string, ttlMs: number, leaseUntil?: number): Promise<boolean>;
  /** Delete the key if `owner` still holds it. */
  release(key: string, owner: string): Promise<boolean>;
  /** Up to `limit` keys in progress whose lease ended before `now` (their holders are presumed dead). */
  expiredLeases(now: number, limit: number): Promise<string[]>;
  /** Releases what the backend holds (a file, a lock). */
  close?(): Promise<void>;
}

interface MemoryEntry {
  value: string;
  owner: string;
  expiresAt: number;
}

export class MemoryIdempotencyBackend implements IdempotencyBackend {
  protected readonly entries = new Map<string, MemoryEntry>();
  /** Keys in progress → end of their lease. */
  protected readonly leases = new Map<string, number>();

  async claim(key: string, value: string, ttlMs: number, leaseUntil: number): Promise<boolean> {
    if (this.live(key)) return false;
    this.put(key, { value, owner: ownerOf(value), expiresAt: Date.now() + ttlMs }, leaseUntil);
    this.sweepSometimes();
    return true;
  }

  async read(key: string): Promise<string | null> {
    return this.live(key)?.value ?? null;
  }

  async settle(key: string, owner: string, value: string, ttlMs: number, leaseUntil?: number): Promise<boolean> {
    const e = this.live(key);
    if (!e || e.owner !== owner) return false;
    this.put(key, { value, owner: ownerOf(value), expiresAt: Date.now() + ttlMs }, leaseUntil);
    return true;
  }

  async release(key: string, owner: string): Promise<boolean> {
    const e = this.live(key);
    if (!e || e.owner !== owner) return false;
    this.remove(key);
    return true;
  }

  async expiredLeases(now: number, limit: number): Promise<string[]> {
    const out: string[] = [];
    for (const [key, until] of this.leases) {
      if (out.length >= limit) break;
      if (until < now && this.live(key)) out.push(key);
    }
    return out;
  }

  /** Every write goes through here (the file backend journals it). */
  protected put(key: string, entry: MemoryEntry, leaseUntil: number | undefined): void {
    this.entries.set(key, entry);
    if (leaseUntil === undefined) this.leases.delete(key);
    else this.leases.set(key, leaseUntil);
  }

  protected remove(key: string): void {
    this.entries.delete(key);
    this.leases.delete(key);
  }

  private live(key: string) {
    const e = this.entries.get(key);
    if (e && e.expiresAt <= Date.now()) {
      this.remove(key);
      return undefined;
    }
    return e;
  }

  private claims = 0;
  /** Amortised expiry: one full sweep per 1000 claims keeps memory bounded without a timer. */
  private sweepSometimes(): void {
    if (++this.claims % 1000 !== 0) return;
    const now = Date.now();
    for (const [k, e] of this.entries) if (e.expiresAt <= now) this.remove(k);
  }
}

function ownerOf(value: string): string {
  return (JSON.parse(value) as { o: string }).o;
}

const CLAIM = `
if redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2], 'NX') then
  redis.call('ZADD', KEYS[2], ARGV[3], KEYS[1])
  return 1
end
return 0`;

const SETTLE = `
local v = redis.call('GET', KEYS[1])
if not v or cjson.decode(v).o ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
if ARGV[4] ~= '' then redis.call('ZADD', KEYS[2], ARGV[4], KEYS[1]) else redis.call('ZREM', KEYS[2], KEYS[1]) end
return 1`;

const RELEASE = `
local v = redis.call('GET', KEYS[1])
if not v or cjson.decode(v).o ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], KEYS[1])
return 1`;

/** Expired leases of keys that still exist; index entries of keys gone by TTL are removed on the way. */
const EXPIRED = `
local keys = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
local out = {}
for _, k in ipairs(keys) do
  if redis.call('EXISTS', k) == 1 then table.insert(out, k) else redis.call('ZREM', KEYS[1], k) end
end
return out`;

/**
 * The shared backend for several instances. The lease index is one sorted
 * set next to the keys (`<prefix>idem-leases`); the scripts touch a key and
 * the index together (on Redis Cluster, give the prefix a hash tag).
 */
export class RedisIdempotencyBackend implements IdempotencyBackend {
  constructor(
    private readonly redis: Redis,
    private readonly leaseIndexKey = 'mcptrail:idem-leases',
  ) {}

  claim(key: string, value: string, ttlMs: number, leaseUntil: number): Promise<boolean> {
    return storeCommand('idempotency', async () => (await this.redis.eval(CLAIM, 2, key, this.leaseIndexKey, value, ttlMs, leaseUntil)) === 1);
  }

  read(key: string): Promise<string | null> {
    return storeCommand('idempotency', () => this.redis.get(key));
  }

  settle(key: string, owner: string, value: string, ttlMs: number, leaseUntil?: number): Promise<boolean> {
    return storeCommand(
      'idempotency',
      async () => (await this.redis.eval(SETTLE, 2, key, this.leaseIndexKey, owner, value, ttlMs, leaseUntil === undefined ? '' : leaseUntil)) === 1,
    );
  }

  release(key: string, owner: string): Promise<boolean> {
    return storeCommand('idempotency', async () => (await this.redis.eval(RELEASE, 2, key, this.leaseIndexKey, owner)) === 1);
  }

  expiredLeases(now: number, limit: number): Promise<string[]> {
    return storeCommand('idempotency', async () => (await this.redis.eval(EXPIRED, 1, this.leaseIndexKey, now, limit)) as string[]);
  }
}
