/**
 * The one Redis client factory of the runtime (rate limits, idempotency,
 * credentials, concurrency caps share it).
 */
import type { Redis, RedisOptions } from 'ioredis';
import { lazy } from '../lazy.js';

const ioredis = lazy<typeof import('ioredis')>('ioredis');

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

export interface CreateRedisOptions extends RedisOptions {
  /** Connection errors, for logging and alerting. Receives the error class/code only, never the URL. */
  onError?: (err: { name: string; code?: string }) => void;
}

/**
 * A client tuned for a request path: an outage fails commands immediately
 * (no offline queue, one retry per request) instead of queueing them behind a
 * reconnect, so callers can fall back (insurance limiter, error) within their
 * deadline. Reconnects keep running in the background.
 */
export function createRedis(
  url: string = process.env.MCPTRAIL_REDIS_URL ?? DEFAULT_REDIS_URL,
  options: CreateRedisOptions = {},
): Redis {
  const { onError, ...ioredisOptions } = options;
  const client = new (ioredis().Redis)(url, {
    lazyConnect: false,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2_000,
    commandTimeout: 2_000,
    retryStrategy: (times) => Math.min(times * 200, 2_000),
    ...ioredisOptions,
  });
  // Without a listener ioredis prints every reconnect failure; with one, the caller decides.
  client.on('error', (err: NodeJS.ErrnoException) => onError?.({ name: err.name, code: err.code }));
  return client;
}

/** Resolves once the client can take commands; rejects after `timeoutMs`. */
export function redisReady(client: Redis, timeoutMs = 5_000): Promise<void> {
  if (client.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      client.off('ready', onReady);
      reject(new Error(`redis not ready after ${timeoutMs} ms`));
    }, timeoutMs);
    const onReady = () => {
      clearTimeout(timer);
      resolve();
    };
    client.once('ready', onReady);
  });
}

/** Graceful QUIT, falling back to a hard disconnect when the server is unreachable. */
export async function closeRedis(client: Redis): Promise<void> {
  if (client.status === 'end') return;
  if (client.status !== 'ready') {
    client.disconnect();
    return;
  }
  try {
    await client.quit();
  } catch {
    client.disconnect();
  }
}

/**
 * A shared store (idempotency, credentials) could not reach Redis. The record
 * then names the dependency (`error_class` StoreUnavailableError, `error_code`
 * `<store>_store_unavailable`) instead of ioredis's bare Error.
 */
export class StoreUnavailableError extends Error {
  override readonly name = 'StoreUnavailableError';
  readonly code: string;
  constructor(readonly store: 'idempotency' | 'credential') {
    super(`the ${store} store (Redis) is unavailable`);
    this.code = `${store}_store_unavailable`;
  }
}

/** Runs one Redis command for `store`; a connection failure becomes StoreUnavailableError, a Redis reply error passes as is. */
export async function storeCommand<T>(store: StoreUnavailableError['store'], command: () => Promise<T>): Promise<T> {
  try {
    return await command();
  } catch (err) {
    if ((err as { name?: unknown } | null)?.name === 'ReplyError') throw err;
    throw new StoreUnavailableError(store);
  }
}

export type { Redis };
