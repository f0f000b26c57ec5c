/** Real-Redis fixtures for the runtime tests: a unique key prefix per run, cleaned up afterwards. */
import { randomBytes } from 'node:crypto';
import { createRedis, closeRedis, redisReady, type Redis } from '../../packages/mcptrail/src/runtime/redis.js';

export interface RedisFixture {
  prefix: string;
  /** A fresh connected client (one per simulated instance). */
  client(): Promise<Redis>;
  /** Deletes every key under the prefix and closes all clients. */
  close(): Promise<void>;
}

export function redisFixture(name: string): RedisFixture {
  const prefix = `mcptrail-test:${name}:${randomBytes(6).toString('hex')}:`;
  const clients: Redis[] = [];
  return {
    prefix,
    async client() {
      const c = createRedis(process.env.MCPTRAIL_REDIS_URL ?? 'redis://127.0.0.1:6379');
      clients.push(c);
      await redisReady(c);
      return c;
    },
    async close() {
      const c = clients[0];
      if (c && c.status === 'ready') {
        let cursor = '0';
        do {
          const [next, keys] = await c.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
          cursor = next;
          if (keys.length) await c.del(...keys);
        } while (cursor !== '0');
      }
      await Promise.all(clients.map((x) => closeRedis(x)));
    },
  };
}

/** A client pointed at a closed port: every command fails fast. */
export function deadRedis(): Redis {
  return createRedis('redis://127.0.0.1:1', { retryStrategy: () => 60_000, connectTimeout: 200 });
}

export async function keysUnder(client: Redis, prefix: string): Promise<string[]> {
  const out: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
    cursor = next;
    out.push(...keys);
  } while (cursor !== '0');
  return out;
}
