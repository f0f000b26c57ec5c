/**
 * The declarative forms of instrument()'s limits and stores: `limits` as a
 * LimitsConfig, `concurrency` as a number, `idempotency: true`. They are
 * built once per instrumentation, on Redis when MCPTRAIL_REDIS_URL (or the
 * `redisUrl` option) is set — several instances then share the budgets, caps
 * and keys — else in this process's memory. Instances passed in are used as
 * they are. The process's one Redis client is closed by shutdown().
 */
import type { Logger } from '../record/index.js';
import {
  closeRedis,
  createRedis,
  MemoryConcurrencyCap,
  memoryIdempotencyStore,
  RateLimits,
  RedisConcurrencyCap,
  redisIdempotencyStore,
  type ConcurrencyCap,
  type IdempotencyStore,
  type LimitsConfig,
  type LimitsStore,
  type Redis,
} from '../runtime/index.js';
import { errorFields } from '../record/index.js';
import { limitsEventLogger } from './limits-signal.js';

export interface SharedStateInput {
  limits?: RateLimits | LimitsConfig;
  concurrency?: ConcurrencyCap | number;
  idempotency?: IdempotencyStore | boolean;
  /** Default env MCPTRAIL_REDIS_URL; unset: memory. */
  redisUrl?: string;
}

export interface SharedState {
  limits?: RateLimits;
  concurrency?: ConcurrencyCap;
  idempotency?: IdempotencyStore;
}

let redis: Redis | undefined;

export function sharedState(input: SharedStateInput, service: string, logger: Logger | undefined): SharedState {
  const { limits, concurrency, idempotency } = input;
  // Instances (or nothing) given: nothing to build, no environment to read.
  if ((limits === undefined || limits instanceof RateLimits) && typeof concurrency !== 'number' && idempotency !== true) {
    return { limits, concurrency, idempotency: idempotency || undefined };
  }
  const url = input.redisUrl ?? (process.env.MCPTRAIL_REDIS_URL || undefined);
  const keyPrefix = `mcptrail:${service}:`;
  const onEvent = limitsEventLogger(logger);
  const client = () => (redis ??= connect(url, logger));
  const store = (): LimitsStore => (url ? { kind: 'redis', redis: client(), keyPrefix } : { kind: 'memory' });

  return {
    limits: limits === undefined || limits instanceof RateLimits ? limits : new RateLimits(limits, { store: store(), onEvent }),
    concurrency:
      typeof concurrency !== 'number'
        ? concurrency
        : url
          ? new RedisConcurrencyCap({ redis: client(), maxInFlight: concurrency, keyPrefix, onEvent })
          : new MemoryConcurrencyCap(concurrency),
    idempotency:
      idempotency === true ? (url ? redisIdempotencyStore(client(), { keyPrefix }) : memoryIdempotencyStore()) : idempotency || undefined,
  };
}

/**
 * The client is made on the first instrument() call, often the first
 * request: commands wait for the first connection (instead of failing the
 * first calls), then fail fast as the request path wants (createRedis).
 */
function connect(url: string | undefined, logger: Logger | undefined): Redis {
  const client = createRedis(url, {
    enableOfflineQueue: true,
    onError: (e) => logger?.debug({ error_class: e.name, error_code: e.code ?? '' }, 'redis_error'),
  });
  client.once('ready', () => {
    client.options.enableOfflineQueue = false;
  });
  return client;
}

/** Closes the Redis client the declarative state opened, if any. */
export async function closeSharedState(logger?: Logger): Promise<void> {
  const client = redis;
  redis = undefined;
  if (!client) return;
  await closeRedis(client).catch((err: unknown) => logger?.warn(errorFields(err), 'redis_close_failed'));
}
