/**
 * The exporter end of the pipeline: batches NDJSON rows per table by size and
 * time and inserts each batch with one statement. A request's rows are
 * acknowledged when the batch carrying them has landed (the shipper relies on
 * "200 means stored").
 *
 * Exactly-once effect on top of at-least-once delivery:
 * - keyed rows (tool_calls by call_id) are deduplicated inside the batch and
 *   against what the table already holds (one bounded lookup per batch), so a
 *   batch re-sent by a shipper that never saw our 200 adds nothing;
 * - every insert carries a dedup token derived from the block's content, so
 *   retrying a block whose first attempt may have landed is a no-op, for the
 *   table and for its rollup views.
 *
 * Failed inserts are retried with backoff (bounded); then every request in the
 * batch gets StoreUnavailableError (503 + Retry-After). Pending rows and bytes
 * are bounded: past the bound a write is refused at once (429/503 +
 * Retry-After) instead of growing memory.
 */
import { sha256Hex } from 'mcptrail/crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { Store } from '../store/index.js';
import { BackpressureError, StoreUnavailableError } from './errors.js';

export interface BatchOptions {
  /** Flush a table's batch once it holds this many rows. Default 5,000. */
  maxRows: number;
  /** Flush a table's batch once it holds this many bytes. Default 8 MiB. */
  maxBytes: number;
  /** Flush a table's batch this long after its first row arrived. Default 200 ms. */
  maxDelayMs: number;
  /**
   * Flush a table's batch at once, without waiting for maxDelayMs, when it holds at least this
   * many rows and the table has no insert in flight (and, when an insert lands, the rows that
   * gathered meanwhile). Under load inserts then run back to back, each carrying what arrived
   * during the previous one; small trickles still wait for the timer. Default 1,000: on a quiet
   * machine it raised OTLP ingest from ~12k to ~20k spans/s (`bench/ingest.js`, 1,000-span
   * requests, 4 in flight, which never filled a 5,000-row batch before the 200 ms timer) for
   * ~10 % more CPU per span (more, smaller parts to merge). Infinity turns it off.
   */
  minRows: number;
  /** Retry-After sent when an insert fails. Default 5 s. */
  retryAfterSeconds: number;
  /** Attempts per batch (first try included) before answering 503. Default 4. */
  maxAttempts: number;
  /** First retry delay; doubles per attempt, full jitter. Default 200 ms. */
  retryBaseMs: number;
  /** Rows queued or in flight across all tables before writes are refused. Default 200,000. */
  maxPendingRows: number;
  /** Bytes queued or in flight across all tables before writes are refused. Default 128 MiB. */
  maxPendingBytes: number;
}

export const DEFAULT_BATCH: BatchOptions = {
  maxRows: 5_000,
  maxBytes: 8 * 1024 * 1024,
  maxDelayMs: 200,
  minRows: 1_000,
  retryAfterSeconds: 5,
  maxAttempts: 4,
  retryBaseMs: 200,
  maxPendingRows: 200_000,
  maxPendingBytes: 128 * 1024 * 1024,
};

/** Rows whose identity is a key (call_id): each line carries its key and timestamp. */
export interface KeyedRows {
  lines: string[];
  keys: string[];
  /** Bounds of the rows' timestamps (ms), so the existence lookup prunes by time. */
  minTsMs: number;
  maxTsMs: number;
  /** Per line, what an after-insert hook needs about the row (the ledger's row digest). */
  facts?: readonly unknown[];
}

/** Which of `keys` the table already holds. */
export type ExistingKeys = (store: Store, keys: string[], minTsMs: number, maxTsMs: number) => Promise<Set<string>>;

/**
 * Runs after a keyed batch landed, inside the same retry: the facts of the rows this insert stored,
 * of the rows the table already held (a re-send, or an earlier attempt that landed and reported
 * failure), and how many lines dedup dropped. A throw fails the attempt like a failed insert.
 */
export type AfterKeyedInsert = (stored: unknown[], alreadyStored: unknown[], duplicates: number) => Promise<void>;

export type WriteInput = { ndjson: string; rows: number } | { keyed: KeyedRows };

interface Waiter {
  resolve: () => void;
  reject: (err: Error) => void;
}

interface TableBatch {
  texts: string[];
  keyed: KeyedRows[];
  rows: number;
  bytes: number;
  waiters: Waiter[];
  timer?: NodeJS.Timeout;
  /** The previous insert of this table: batches of one table land in order, and the dedup lookup sees them. */
  inflight: Promise<void>;
  /** Batches dispatched and not yet settled. */
  busy: number;
}

export interface WriterStats {
  pendingRows: number;
  pendingBytes: number;
  inserts: number;
  retries: number;
  failedBatches: number;
  /** Keyed rows skipped because the table (or the same batch) already had them. */
  duplicatesSkipped: number;
  /** Time spent in existence lookups, ms (the write-side cost of dedup). */
  dedupLookupMs: number;
}

export class BatchWriter {
  private readonly tables = new Map<string, TableBatch>();
  private readonly keyLookups: Map<string, ExistingKeys>;
  private closed = false;
  /** False after a batch exhausted its retries, true again after the next success: picks 503 over 429. */
  private storeHealthy = true;
  private readonly counters = { pendingRows: 0, pendingBytes: 0, inserts: 0, retries: 0, failedBatches: 0, duplicatesSkipped: 0, dedupLookupMs: 0 };

  constructor(
    private readonly store: Store,
    private readonly options: BatchOptions = DEFAULT_BATCH,
    private readonly logger?: FastifyBaseLogger,
    keyLookups: Record<string, ExistingKeys> = {},
    private readonly afterInsert: Record<string, AfterKeyedInsert> = {},
  ) {
    this.keyLookups = new Map(Object.entries(keyLookups));
  }

  /** Queues rows for `table`; resolves once they are stored (or known to be there already). */
  write(table: string, input: WriteInput): Promise<void> {
    return this.writeAll([[table, input]]);
  }

  /**
   * Queues rows for several tables as one request: all of them or (past the
   * pending bound) none, so a refused request leaves no rows behind.
   */
  writeAll(entries: readonly (readonly [table: string, input: WriteInput])[]): Promise<void> {
    const sized = entries
      .map(([table, input]) => ({ table, input, rows: 'keyed' in input ? input.keyed.lines.length : input.rows }))
      .filter((e) => e.rows > 0)
      .map((e) => ({ ...e, bytes: 'keyed' in e.input ? e.input.keyed.lines.reduce((n, l) => n + l.length + 1, 0) : e.input.ndjson.length }));
    if (sized.length === 0) return Promise.resolve();
    if (this.closed) return Promise.reject(new StoreUnavailableError(this.options.retryAfterSeconds));
    const rows = sized.reduce((n, e) => n + e.rows, 0);
    const bytes = sized.reduce((n, e) => n + e.bytes, 0);
    const { maxPendingRows, maxPendingBytes } = this.options;
    if (this.counters.pendingRows + rows > maxPendingRows || this.counters.pendingBytes + bytes > maxPendingBytes) {
      throw new BackpressureError(this.storeHealthy ? 429 : 503, this.storeHealthy ? 1 : this.options.retryAfterSeconds);
    }
    const stored = sized.map((e) => this.enqueue(e.table, e.input, e.rows, e.bytes));
    return stored.length === 1 ? stored[0]! : Promise.all(stored).then(() => undefined);
  }

  private enqueue(table: string, input: WriteInput, rows: number, bytes: number): Promise<void> {
    this.counters.pendingRows += rows;
    this.counters.pendingBytes += bytes;
    const batch = this.batchFor(table);
    if ('keyed' in input) batch.keyed.push(input.keyed);
    else batch.texts.push(input.ndjson);
    batch.rows += rows;
    batch.bytes += bytes;
    const stored = new Promise<void>((resolve, reject) => batch.waiters.push({ resolve, reject }));
    if (batch.rows >= this.options.maxRows || batch.bytes >= this.options.maxBytes) this.dispatch(table, batch);
    else if (batch.busy === 0 && batch.rows >= this.options.minRows) this.dispatch(table, batch);
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

  stats(): WriterStats {
    return { ...this.counters };
  }

  private batchFor(table: string): TableBatch {
    let batch = this.tables.get(table);
    if (!batch) {
      batch = { texts: [], keyed: [], rows: 0, bytes: 0, waiters: [], inflight: Promise.resolve(), busy: 0 };
      this.tables.set(table, batch);
    }
    return batch;
  }

  private dispatch(table: string, batch: TableBatch): void {
    if (batch.timer) clearTimeout(batch.timer);
    batch.timer = undefined;
    if (batch.rows === 0) return;
    const { texts, keyed, rows, bytes, waiters } = batch;
    batch.texts = [];
    batch.keyed = [];
    batch.rows = 0;
    batch.bytes = 0;
    batch.waiters = [];
    batch.busy++;
    batch.inflight = batch.inflight.then(async () => {
      const ok = await this.insertWithRetries(table, texts, keyed);
      this.counters.pendingRows -= rows;
      this.counters.pendingBytes -= bytes;
      batch.busy--;
      // Group commit: what gathered during this insert goes next, if it is worth an insert of its own.
      if (batch.busy === 0 && batch.rows >= this.options.minRows) this.dispatch(table, batch);
      if (ok) for (const w of waiters) w.resolve();
      else {
        const unavailable = new StoreUnavailableError(this.options.retryAfterSeconds);
        for (const w of waiters) w.reject(unavailable);
      }
    });
  }

  private async insertWithRetries(table: string, texts: string[], keyed: KeyedRows[]): Promise<boolean> {
    const { maxAttempts, retryBaseMs } = this.options;
    for (let attempt = 1; ; attempt++) {
      try {
        // The lookup runs on every attempt: a previous attempt may have landed although it reported failure.
        const fresh = await this.newKeyedRows(table, keyed);
        const text = texts.join('') + fresh.text;
        if (text.length > 0) {
          // Encoded once: hashed and inserted as the same bytes (the token equals the string's hash).
          const body = Buffer.from(text);
          await this.store.insertNDJSON(table, body, { dedupToken: contentToken(body) });
          this.counters.inserts++;
        }
        const after = this.afterInsert[table];
        if (after && (fresh.stored.length > 0 || fresh.alreadyStored.length > 0)) await after(fresh.stored, fresh.alreadyStored, fresh.duplicates);
        this.storeHealthy = true;
        return true;
      } catch (err) {
        const e = err as { name?: string; code?: unknown; clickhouseCode?: unknown };
        // Class and code only: the message can quote row data.
        this.logger?.error({ table, attempt, errClass: e?.name, code: e?.code, clickhouseCode: e?.clickhouseCode }, 'batch insert failed');
        if (attempt >= maxAttempts) {
          this.counters.failedBatches++;
          this.storeHealthy = false;
          return false;
        }
        this.counters.retries++;
        await sleep(Math.random() * retryBaseMs * 2 ** (attempt - 1));
      }
    }
  }

  /** NDJSON of the keyed rows not yet in the table, first occurrence wins; with the facts of kept and already stored rows. */
  private async newKeyedRows(table: string, keyed: KeyedRows[]): Promise<{ text: string; stored: unknown[]; alreadyStored: unknown[]; duplicates: number }> {
    const stored: unknown[] = [];
    const alreadyStored: unknown[] = [];
    if (keyed.length === 0) return { text: '', stored, alreadyStored, duplicates: 0 };
    const seen = new Set<string>();
    const lines: string[] = [];
    const keys: string[] = [];
    const facts: unknown[] = [];
    let minTsMs = Infinity;
    let maxTsMs = -Infinity;
    let total = 0;
    for (const chunk of keyed) {
      total += chunk.lines.length;
      minTsMs = Math.min(minTsMs, chunk.minTsMs);
      maxTsMs = Math.max(maxTsMs, chunk.maxTsMs);
      for (let i = 0; i < chunk.lines.length; i++) {
        const key = chunk.keys[i]!;
        if (seen.has(key)) continue;
        seen.add(key);
        lines.push(chunk.lines[i]!);
        keys.push(key);
        facts.push(chunk.facts?.[i]);
      }
    }
    const lookup = this.keyLookups.get(table);
    let existing = new Set<string>();
    if (lookup) {
      const started = performance.now();
      existing = await lookup(this.store, keys, minTsMs, maxTsMs);
      this.counters.dedupLookupMs += performance.now() - started;
    }
    let out = '';
    let kept = 0;
    for (let i = 0; i < lines.length; i++) {
      const fact = facts[i];
      if (existing.has(keys[i]!)) {
        if (fact !== undefined) alreadyStored.push(fact);
        continue;
      }
      out += lines[i] + '\n';
      if (fact !== undefined) stored.push(fact);
      kept++;
    }
    this.counters.duplicatesSkipped += total - kept;
    return { text: out, stored, alreadyStored, duplicates: total - kept };
  }
}

/** Same block text, same token: ClickHouse skips the repeat (and its rollup rows). */
export function contentToken(body: string | Buffer): string {
  return sha256Hex(body);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
