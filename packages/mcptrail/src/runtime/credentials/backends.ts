import type { Redis } from 'ioredis';
import { storeCommand } from '../redis.js';

/** Storage of one opaque (encoded) value per tenant plus a refresh lock. */
export interface CredentialBackend {
  read(tenantId: string): Promise<string | null>;
  write(tenantId: string, value: string): Promise<void>;
  /** Writes only if the stored value is still `expected` (null = absent): the version check for rotation. */
  compareAndSet(tenantId: string, expected: string | null, next: string): Promise<boolean>;
  /** SET NX PX with an owner token. */
  lock(tenantId: string, token: string, ttlMs: number): Promise<boolean>;
  /** Releases only if `token` still owns the lock. */
  unlock(tenantId: string, token: string): Promise<void>;
}

export class MemoryCredentialBackend implements CredentialBackend {
  private readonly values = new Map<string, string>();
  private readonly locks = new Map<string, { token: string; expiresAt: number }>();

  async read(tenantId: string) {
    return this.values.get(tenantId) ?? null;
  }

  async write(tenantId: string, value: string) {
    this.values.set(tenantId, value);
  }

  async compareAndSet(tenantId: string, expected: string | null, next: string) {
    if ((this.values.get(tenantId) ?? null) !== expected) return false;
    this.values.set(tenantId, next);
    return true;
  }

  async lock(tenantId: string, token: string, ttlMs: number) {
    const held = this.locks.get(tenantId);
    if (held && held.expiresAt > Date.now()) return false;
    this.locks.set(tenantId, { token, expiresAt: Date.now() + ttlMs });
    return true;
  }

  async unlock(tenantId: string, token: string) {
    if (this.locks.get(tenantId)?.token === token) this.locks.delete(tenantId);
  }
}

const CAS = `
local cur = redis.call('GET', KEYS[1])
if (ARGV[1] == '1' and cur == false) or (ARGV[1] == '0' and cur == ARGV[2]) then
  redis.call('SET', KEYS[1], ARGV[3])
  return 1
end
return 0`;

const UNLOCK = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

export class RedisCredentialBackend implements CredentialBackend {
  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix = 'mcptrail:',
  ) {}

  private key(tenantId: string) {
    return `${this.keyPrefix}cred:${encodeURIComponent(tenantId)}`;
  }

  private lockKey(tenantId: string) {
    return `${this.keyPrefix}cred-lock:${encodeURIComponent(tenantId)}`;
  }

  read(tenantId: string) {
    return storeCommand('credential', () => this.redis.get(this.key(tenantId)));
  }

  async write(tenantId: string, value: string) {
    await storeCommand('credential', () => this.redis.set(this.key(tenantId), value));
  }

  async compareAndSet(tenantId: string, expected: string | null, next: string) {
    const absent = expected === null ? '1' : '0';
    return (await storeCommand('credential', () => this.redis.eval(CAS, 1, this.key(tenantId), absent, expected ?? '', next))) === 1;
  }

  async lock(tenantId: string, token: string, ttlMs: number) {
    return (await storeCommand('credential', () => this.redis.set(this.lockKey(tenantId), token, 'PX', ttlMs, 'NX'))) === 'OK';
  }

  async unlock(tenantId: string, token: string) {
    await storeCommand('credential', () => this.redis.eval(UNLOCK, 1, this.lockKey(tenantId), token));
  }
}
