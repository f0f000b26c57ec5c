export { CredentialStore, type CredentialStoreOptions } from './store.js';
export { MemoryCredentialBackend, RedisCredentialBackend, type CredentialBackend } from './backends.js';
export { aesGcmCodec, credentialsKeyFromEnv, parseCredentialsKey, plaintextCodec, type TokenCodec } from './cipher.js';
export { CredentialError, RefreshError, classifyRefreshError } from './errors.js';
export {
  REFRESH_FAILURE_REASONS,
  type AccessGrant,
  type CredentialEvent,
  type RefreshFailureReason,
  type RefreshFn,
  type TokenSet,
} from './types.js';

import type { Redis } from 'ioredis';
import { MemoryCredentialBackend, RedisCredentialBackend } from './backends.js';
import { aesGcmCodec, credentialsKeyFromEnv } from './cipher.js';
import { CredentialStore, type CredentialStoreOptions } from './store.js';

type StoreOptions = Omit<CredentialStoreOptions, 'backend' | 'codec'>;

export function memoryCredentialStore(options: StoreOptions): CredentialStore {
  return new CredentialStore({ ...options, backend: new MemoryCredentialBackend() });
}

/**
 * Shared across instances, encrypted at rest with AES-256-GCM. The key comes
 * from `key` or MCPTRAIL_CREDENTIALS_KEY; there is no unencrypted fallback.
 */
export function redisCredentialStore(
  redis: Redis,
  options: StoreOptions & { key?: string | Buffer; keyPrefix?: string },
): CredentialStore {
  const { key, keyPrefix, ...rest } = options;
  const secret = key ?? credentialsKeyFromEnv();
  if (!secret) throw new Error('redisCredentialStore needs a key: pass `key` or set MCPTRAIL_CREDENTIALS_KEY (32 bytes, hex or base64)');
  return new CredentialStore({ ...rest, backend: new RedisCredentialBackend(redis, keyPrefix), codec: aesGcmCodec(secret) });
}
