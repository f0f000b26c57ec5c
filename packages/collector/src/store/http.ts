/** The http driver: a ClickHouse server or cluster through @clickhouse/client. */
import { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { createClient, ClickHouseError, ClickHouseLogLevel, type ClickHouseClient } from '@clickhouse/client';
import { StoreError } from './errors.js';
import { INSERT_SETTINGS, dedupSettings, SESSION_SETTINGS, assertTableName } from './settings.js';
import type { InsertOptions, InsertResult, QueryParams, RawFormat, Store } from './types.js';

export interface HttpStoreOptions {
  url: string;
  username?: string;
  password?: string;
  database?: string;
}

export function openHttpStore(opts: HttpStoreOptions): Store {
  const client = createClient({
    url: opts.url,
    username: opts.username,
    password: opts.password,
    database: opts.database,
    compression: { request: true, response: true },
    // Below the server's keep-alive timeout, so an idle socket is never reused after the server closed it.
    keep_alive: { idle_socket_ttl: 2500 },
    clickhouse_settings: { ...SESSION_SETTINGS },
    // The client's own error log quotes server messages, which can quote data; errors surface as StoreError instead.
    log: { level: ClickHouseLogLevel.OFF },
  });
  return new HttpStore(client);
}

class HttpStore implements Store {
  readonly driver = 'http' as const;
  constructor(private readonly client: ClickHouseClient) {}

  async exec(sql: string, params?: QueryParams): Promise<void> {
    try {
      await this.client.command({ query: sql, query_params: params as Record<string, unknown> | undefined });
    } catch (err) {
      throw toStoreError(err);
    }
  }

  async query<T>(sql: string, params?: QueryParams): Promise<T[]> {
    try {
      const rs = await this.client.query({ query: sql, query_params: params as Record<string, unknown> | undefined, format: 'JSONEachRow' });
      return await rs.json<T>();
    } catch (err) {
      throw toStoreError(err);
    }
  }

  async queryRaw(sql: string, params: QueryParams | undefined, format: RawFormat): Promise<Buffer> {
    try {
      const result = await this.client.exec({ query: `${sql}\nFORMAT ${format}`, query_params: params as Record<string, unknown> | undefined });
      const chunks: Buffer[] = [];
      for await (const chunk of result.stream) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks);
    } catch (err) {
      throw toStoreError(err);
    }
  }

  async insertNDJSON(table: string, body: Buffer | string, opts?: InsertOptions): Promise<InsertResult> {
    // exec() streams the bytes as they are; insert() would want objects to re-serialise.
    try {
      const result = await this.client.exec({
        query: `INSERT INTO ${assertTableName(table)} FORMAT JSONEachRow`,
        values: Readable.from([typeof body === 'string' ? Buffer.from(body) : body], { objectMode: false }),
        clickhouse_settings: { ...INSERT_SETTINGS, ...opts?.settings, ...dedupSettings(opts) },
      });
      result.stream.resume();
      await finished(result.stream);
      const written = result.summary?.written_rows;
      return { rowsWritten: written === undefined ? undefined : Number(written) };
    } catch (err) {
      throw toStoreError(err);
    }
  }

  async ping(): Promise<boolean> {
    const result = await this.client.ping();
    return result.success;
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}

function toStoreError(err: unknown): StoreError {
  if (err instanceof StoreError) return err;
  if (err instanceof ClickHouseError) {
    const n = Number(err.code);
    return new StoreError('http', `CLICKHOUSE_${err.type ?? err.code}`, err.message, Number.isFinite(n) ? n : undefined, { cause: err });
  }
  const e = err as { code?: unknown; message?: unknown };
  const code = typeof e?.code === 'string' ? e.code : 'HTTP';
  return new StoreError('http', code, typeof e?.message === 'string' ? e.message : String(err), undefined, { cause: err });
}
