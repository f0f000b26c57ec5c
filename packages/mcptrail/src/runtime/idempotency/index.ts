export { IdempotencyStore, DEFAULT_RESULT_TTL_MS, type Begun, type BegunNew, type BegunReplay, type IdempotencyStoreOptions } from './store.js';
export { MemoryIdempotencyBackend, RedisIdempotencyBackend, type IdempotencyBackend } from './backends.js';
export { canonicalJson, idempotencyKey, requestFingerprint, type IdempotencyRequest } from './key.js';
export { IdempotencyConflictError, IdempotencyWaitTimeoutError } from './errors.js';

import type { Redis } from 'ioredis';
import { MemoryIdempotencyBackend, RedisIdempotencyBackend } from './backends.js';
import { IdempotencyStore, type IdempotencyStoreOptions } from './store.js';

export function memoryIdempotencyStore(options?: IdempotencyStoreOptions): IdempotencyStore {
  return new IdempotencyStore(new MemoryIdempotencyBackend(), options);
}

export function redisIdempotencyStore(redis: Redis, options?: IdempotencyStoreOptions): IdempotencyStore {
  return new IdempotencyStore(new RedisIdempotencyBackend(redis), options);
}
