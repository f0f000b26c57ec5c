export {
  IdempotencyStore,
  DEFAULT_RESULT_TTL_MS,
  type Begun,
  type BegunNew,
  type BegunReplay,
  type BegunInterrupted,
  type BeginOptions,
  type IdempotencyStoreOptions,
  type InterruptedListener,
} from './store.js';
export { MemoryIdempotencyBackend, RedisIdempotencyBackend, type IdempotencyBackend } from './backends.js';
export { FileIdempotencyBackend, type FileIdempotencyBackendOptions } from './file-backend.js';
export { canonicalJson, idempotencyKey, requestFingerprint, type IdempotencyRequest } from './key.js';
export { IdempotencyConflictError, IdempotencyWaitTimeoutError } from './errors.js';

import type { Redis } from 'ioredis';
import { MemoryIdempotencyBackend, RedisIdempotencyBackend } from './backends.js';
import { FileIdempotencyBackend } from './file-backend.js';
import { IdempotencyStore, type IdempotencyStoreOptions } from './store.js';

/** In memory: keys die with the process (tests, throwaway servers). */
export function memoryIdempotencyStore(options?: IdempotencyStoreOptions): IdempotencyStore {
  return new IdempotencyStore(new MemoryIdempotencyBackend(), options);
}

/**
 * The embedded default: keys and intents in a write-ahead journal in `dir`
 * (one process per directory), surviving a SIGKILL and a restart. `close()`
 * syncs the journal and releases the directory.
 */
export function fileIdempotencyStore(options: IdempotencyStoreOptions & { dir: string; fsync?: boolean }): IdempotencyStore {
  return new IdempotencyStore(new FileIdempotencyBackend({ dir: options.dir, fsync: options.fsync }), options);
}

/** Shared by several instances. */
export function redisIdempotencyStore(redis: Redis, options?: IdempotencyStoreOptions): IdempotencyStore {
  return new IdempotencyStore(new RedisIdempotencyBackend(redis, `${options?.keyPrefix ?? 'mcptrail:'}idem-leases`), options);
}
