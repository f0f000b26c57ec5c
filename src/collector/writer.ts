/**
 * The exporter end of the pipeline: batches NDJSON rows per table by size and
 * time and inserts each batch with one statement. A request's rows are
 * acknowledged when the batch carrying them has landed (the shipper relies on
 * "200 means stored"); if the insert fails, every request in the batch gets
 * StoreUnavailableError (503 + Retry-After) and may resend.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { Store } from '../store/index.js';
import { StoreUnavailableError } from './errors.js';

export interface BatchOptions {
  /** Flush a table's batch once it holds this many rows. Default 5,000. */
  maxRows: number;
  /** Flush a table's batch this long after its first row arrived. Default 200 ms. */
  maxDelayMs: number;
  /** Retry-After sent when an insert fails. Default 5 s. */
  retryAfterSeconds: number;
}

export const DEFAULT_BATCH: BatchOptions = { maxRows: 5_000, maxDelayMs: 200, retryAfterSeconds: 5 };

interface Waiter {
  resolve: () => void;
  reject: (err: Error) => void;
}

interface TableBatch {
  chunks: string[];
  rows: number;
  waiters: Waiter[];
  timer?: NodeJS.Timeout;
  /** The previous insert of this table: batches of one table land in order. */
  inflight: Promise<void>;
}

export class BatchWriter {
  private readonly tables = new Map<string, TableBatch>();
  private closed = false;

  constructor(
    private readonly store: Store,
    private readonly options: BatchOptions = DEFAULT_BATCH,
    private readonly logger?: FastifyBaseLogger,
  ) {}

  /** Queues `rows` NDJSON rows (newline-terminated) for `table`; resolves once they are stored. */
  write(table: string, ndjson: string, rows: number): Promise<void> {
    if (rows === 0) return Promise.resolve();
    if (this.closed) return Promise.reject(new StoreUnavailableError(this.options.retryAfterSeconds));
    const batch = this.batchFor(table);
    batch.chunks.push(ndjson);
    batch.rows += rows;
    const stored = new Promise<void>((resolve, reject) => batch.waiters.push({ resolve, reject }));
    if (batch.rows >= this.options.maxRows) this.dispatch(table, batch);
    else if (!batch.timer) {
      batch.timer = setTimeout(() => this.dispatch(table, batch), this.options.maxDelayMs);
      batch.timer.unref();
    }
    return stored;
  }

  /** Sends every pending batch now and waits until all inserts have settled. */
  async flush(): Promise<void> {
    for (const [table, batch] of this.tables) if (batch.rows > 0) this.dispatch(table, batch);
    await Promise.all([...this.tables.values()].map((b) => b.inflight));
  }

  /** Flushes and refuses further writes. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
  }

  private batchFor(table: string): TableBatch {
    let batch = this.tables.get(table);
    if (!batch) {
      batch = { chunks: [], rows: 0, waiters: [], inflight: Promise.resolve() };
      this.tables.set(table, batch);
    }
    return batch;
  }

  private dispatch(table: string, batch: TableBatch): void {
    if (batch.timer) clearTimeout(batch.timer);
    batch.timer = undefined;
    if (batch.rows === 0) return;
    const { chunks, rows, waiters } = batch;
    batch.chunks = [];
    batch.rows = 0;
    batch.waiters = [];
    batch.inflight = batch.inflight.then(() => this.insert(table, chunks, rows, waiters));
  }

  private async insert(table: string, chunks: string[], rows: number, waiters: Waiter[]): Promise<void> {
    try {
      await this.store.insertNDJSON(table, Buffer.from(chunks.join(''), 'utf8'));
      for (const w of waiters) w.resolve();
    } catch (err) {
      const e = err as { name?: string; code?: unknown; clickhouseCode?: unknown };
      // Class and code only: the message can quote row data.
      this.logger?.error({ table, rows, errClass: e?.name, code: e?.code, clickhouseCode: e?.clickhouseCode }, 'batch insert failed');
      const unavailable = new StoreUnavailableError(this.options.retryAfterSeconds);
      for (const w of waiters) w.reject(unavailable);
    }
  }
}
