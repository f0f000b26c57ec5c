import type { Redis } from 'ioredis';
import { storeCommand } from '../redis.js';

/**
 * The four atomic operations the store needs. Values are opaque JSON strings
 * carrying an owner token `o`; settle/release only act for the current owner,
 * so a holder whose lease expired cannot clobber the next holder's entry.
 */
export interface IdempotencyBackend {
  /** SET NX PX: true when this caller now owns the key. */
  claim(key: string, value: string, ttlMs: number): Promise<boolean>;
  read(key: string): Promise<string | null>;
  /** Replace the value (and TTL) if `owner` still holds the key. */
  settle(key: string, owner: string, value: string, ttlMs: number): Promise<boolean>;
  /** Delete the key if `owner` still holds it. */
  release(key: string, owner: string): Promise<boolean>;
}

export class MemoryIdempotencyBackend implements IdempotencyBackend {
  private readonly entries = new Map<string, { value: string; owner: string; expiresAt: number }>();

  async claim(key: string, value: string, ttlMs: number): Promise<boolean> {
    if (this.live(key)) return false;
    this.entries.set(key, { value, owner: ownerOf(value), expiresAt: Date.now() + ttlMs });
    this.sweepSometimes();
    return true;
  }

  async read(key: string): Promise<string | null> {
    return this.live(key)?.value ?? null;
  }

  async settle(key: string, owner: string, value: string, ttlMs: number): Promise<boolean> {
    const e = this.live(key);
    if (!e || e.owner !== owner) return false;
    this.entries.set(key, { value, owner, expiresAt: Date.now() + ttlMs });
    return true;
  }

  async release(key: string, owner: string): Promise<boolean> {
    const e = this.live(key);
    if (!e || e.owner !== owner) return false;
    this.entries.delete(key);
    return true;
  }

  private live(key: string) {
    const e = this.entries.get(key);
    if (e && e.expiresAt <= Date.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return e;
  }

  private claims = 0;
  /** Amortised expiry: one full sweep per 1000 claims keeps memory bounded without a timer. */
  private sweepSometimes(): void {
    if (++this.claims % 1000 !== 0) return;
    const now = Date.now();
    for (const [k, e] of this.entries) if (e.expiresAt <= now) this.entries.delete(k);
  }
}

function ownerOf(value: string): string {
  return (JSON.parse(value) as { o: string }).o;
}

const SETTLE = `
local v = redis.call('GET', KEYS[1])
if not v or cjson.decode(v).o ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1`;

const RELEASE = `
local v = redis.call('GET', KEYS[1])
if not v or cjson.decode(v).o ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
return 1`;

export class RedisIdempotencyBackend implements IdempotencyBackend {
  constructor(private readonly redis: Redis) {}

  claim(key: string, value: string, ttlMs: number): Promise<boolean> {
    return storeCommand('idempotency', async () => (await this.redis.set(key, value, 'PX', ttlMs, 'NX')) === 'OK');
  }

  read(key: string): Promise<string | null> {
    return storeCommand('idempotency', () => this.redis.get(key));
  }

  settle(key: string, owner: string, value: string, ttlMs: number): Promise<boolean> {
    return storeCommand('idempotency', async () => (await this.redis.eval(SETTLE, 1, key, owner, value, ttlMs)) === 1);
  }

  release(key: string, owner: string): Promise<boolean> {
    return storeCommand('idempotency', async () => (await this.redis.eval(RELEASE, 1, key, owner)) === 1);
  }
}
