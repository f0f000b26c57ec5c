/**
 * Ships CallRecords to the collector in NDJSON batches. The queue (a disk
 * spool with `spoolDir`, else memory) and the transport are separate pieces;
 * this module only schedules: batch on size or interval, retry with
 * full-jitter backoff, bounded flush on shutdown, and reporting of lost
 * records as `shipper_drop` pipeline events (so the shipper-drops alert fires).
 *
 * Two classes of records, two queues: the records of calls, and the records
 * of requests the HTTP edge refused (`enqueueRefusal`), which anyone can
 * produce. Each has its own budget (a spool in `<spoolDir>/refusals` of
 * `refusalSpoolMaxBytes`), so a flood of refusals only ever drops refusals
 * (reason `refusals_full`); calls ship first.
 */
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { CallRecord } from './schema.js';
import type { Logger } from './logger.js';
import { createMemoryQueue, type RecordQueue } from './queue.js';
import { createDropReporter, type DropEvent, type DropReason } from './drops.js';
import { openSpool, type Spool } from './spool.js';
import { createHttpBatchTransport, type BatchTransport } from './transport.js';

export interface ShipperOptions {
  /** Full URL of the records endpoint, e.g. `${collectorUrl}/v1/records`. */
  url: string;
  /** Sent as `Authorization: Bearer` (MCPTRAIL_INGEST_TOKEN). */
  token?: string;
  /** Records per batch. Default 5,000: at 500 one batch in flight ships ~1,000 records/s, less than a busy server emits. */
  maxBatch?: number;
  /**
   * A send starts once 500 records (or maxBatch, if smaller) wait, or this long after the first
   * one queued (default 200 ms); a backlog then drains batch after batch, and flush()/close() to empty.
   */
  flushIntervalMs?: number;
  /** Records the memory queue holds (no spool). */
  maxQueue?: number;
  /**
   * A directory for the durable spool (default env MCPTRAIL_SPOOL_DIR). With
   * it, a record is on disk when enqueue() returns and fdatasync'ed within
   * `fsyncIntervalMs`; records left at shutdown ship after the next start.
   * One process per directory.
   */
  spoolDir?: string;
  /** Spool size cap; past it the oldest records are dropped (counted, reported). Default 256 MiB. */
  spoolMaxBytes?: number;
  /**
   * The refusal class's own spool cap (`<spoolDir>/refusals`). Default
   * min(32 MiB, spoolMaxBytes / 8), at least 1 MiB.
   */
  refusalSpoolMaxBytes?: number;
  /** Refusal records the memory queue holds (no spool). Default maxQueue / 10. */
  maxRefusalQueue?: number;
  /** Spool segment size. Default min(8 MiB, spoolMaxBytes / 4). */
  spoolSegmentBytes?: number;
  /** Group-commit window of the spool. Default 20 ms. */
  fsyncIntervalMs?: number;
  /**
   * Backoff bounds for retries (default 100 ms to 5 s). The upper bound is also how
   * long a recovered collector can wait for the first retry, while records pile up.
   */
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** How long flush()/close() wait for the queue to drain. */
  drainTimeoutMs?: number;
  /** Replace the queue (e.g. with a custom spool). */
  queue?: RecordQueue;
  /** Replace the HTTP transport. */
  transport?: BatchTransport;
  /** Where `shipper_drop` events go. Default: `url` with `/v1/records` → `/v1/events`. */
  eventsUrl?: string;
  /** Replace the events transport. */
  eventsTransport?: BatchTransport;
  /** The pipeline event losses are reported as. Default `shipper_drop` (records). */
  dropEvent?: DropEvent;
  /** Drops are logged here (warn) as well as reported. */
  logger?: Logger;
  /** `service` of reported events. Default env OTEL_SERVICE_NAME, else `mcp-server`. */
  service?: string;
  /** `instance` of reported events. Default `<hostname>:<pid>`. */
  instance?: string;
}

export interface ShipperStats {
  /** Records waiting, both classes. */
  queued: number;
  /** Of which refusal records. */
  refusalsQueued: number;
  shipped: number;
  /** Records lost: queue/spool full, rejected by the collector, or left at shutdown without a spool. */
  dropped: number;
  /** Records the collector refused with a non-retryable status (included in `dropped`). */
  rejected: number;
  retries: number;
  /** Drop counts reported to the collector as pipeline events. */
  dropsReported: number;
}

export interface Shipper {
  enqueue(record: CallRecord): void;
  /** enqueue() for a record already serialised with JSON.stringify (the sink serialises once). */
  enqueueJson?(json: string): void;
  /** A refused request's record (serialised), into the refusal class: its own budget, shipped after calls. */
  enqueueRefusalJson?(json: string): void;
  /** Ships everything queued; resolves true when drained within the bound. */
  flush(): Promise<boolean>;
  /** Resolves once every record enqueued so far is durable (fdatasync'ed); at once without a spool. */
  sync(): Promise<void>;
  /** Flushes (bounded), then stops; later records are dropped and counted. A spool keeps what is left. */
  close(): Promise<boolean>;
  stats(): ShipperStats;
  readonly dropped: number;
}

export function createShipper(opts: ShipperOptions): Shipper {
  const maxBatch = opts.maxBatch ?? 5000;
  // A send starts once this many records wait (or on the interval), as with the old
  // default, so records reach the collector as soon as before; only a backlog is
  // drained in batches of up to maxBatch.
  const sendAt = Math.min(maxBatch, 500);
  const flushIntervalMs = opts.flushIntervalMs ?? 200;
  const retryBaseMs = opts.retryBaseMs ?? 100;
  const retryMaxMs = opts.retryMaxMs ?? 5_000;
  const drainTimeoutMs = opts.drainTimeoutMs ?? 10_000;
  const service = opts.service ?? (process.env.OTEL_SERVICE_NAME || 'mcp-server');
  const instance = opts.instance ?? `${hostname()}:${process.pid}`;
  const spoolDir = opts.spoolDir ?? (process.env.MCPTRAIL_SPOOL_DIR || undefined);

  const stats = { shipped: 0, dropped: 0, rejected: 0, retries: 0 };
  const drops = createDropReporter({
    transport: opts.eventsTransport ?? createHttpBatchTransport({ url: opts.eventsUrl ?? eventsUrlFor(opts.url), token: opts.token }),
    service,
    instance,
    stateDir: spoolDir,
    logger: opts.logger,
    event: opts.dropEvent,
  });
  function dropped(count: number, reason: DropReason): void {
    stats.dropped += count;
    drops.report(count, reason);
    schedule();
  }

  const spools: Spool[] = [];
  const spoolMaxBytes = opts.spoolMaxBytes ?? 256 * 1024 * 1024;
  const maxQueue = opts.maxQueue ?? 100_000;
  const queue =
    opts.queue ??
    (spoolDir
      ? track(
          openSpool({
            dir: spoolDir,
            maxBytes: spoolMaxBytes,
            segmentBytes: opts.spoolSegmentBytes,
            fsyncIntervalMs: opts.fsyncIntervalMs,
            onDrop: (count, reason) => dropped(count, reason),
          }),
        )
      : createMemoryQueue(maxQueue));
  const refusals: RecordQueue =
    spoolDir && !opts.queue
      ? track(
          openSpool({
            dir: join(spoolDir, 'refusals'),
            maxBytes: opts.refusalSpoolMaxBytes ?? Math.max(1024 * 1024, Math.min(32 * 1024 * 1024, Math.floor(spoolMaxBytes / 8))),
            segmentBytes: opts.spoolSegmentBytes,
            fsyncIntervalMs: opts.fsyncIntervalMs,
            onDrop: (count) => dropped(count, 'refusals_full'),
          }),
        )
      : createMemoryQueue(opts.maxRefusalQueue ?? Math.max(1, Math.floor(maxQueue / 10)));
  function track(s: Spool): Spool {
    spools.push(s);
    return s;
  }
  const durable = (queue as Partial<Spool>).durable === true;
  const waiting = () => queue.size + refusals.size;
  const transport = opts.transport ?? createHttpBatchTransport({ url: opts.url, token: opts.token });

  let timer: NodeJS.Timeout | undefined;
  let pumping: Promise<void> | undefined;
  let closed = false;
  let stopped = false;
  let wakeBackoff: (() => void) | undefined;
  /** flush()/close() in progress: drain to empty instead of waiting for a batch to fill. */
  let flushing = 0;

  function hasWork(): boolean {
    return waiting() > 0 || drops.pending;
  }

  function schedule(): void {
    if (pumping || stopped) return;
    // sendAt records waiting start a send even while the interval's timer runs (pump() clears it).
    if (waiting() >= sendAt) {
      pump();
      return;
    }
    if (timer) return;
    timer = setTimeout(() => {
      timer = undefined;
      pump();
    }, flushIntervalMs);
    timer.unref();
  }

  function pump(): Promise<void> {
    if (timer) {
      clearTimeout(timer);
      timer = undefined;
    }
    pumping ??= drain().finally(() => {
      pumping = undefined;
      if (hasWork()) schedule();
    });
    return pumping;
  }

  async function drain(): Promise<void> {
    let attempt = 0;
    while (hasWork() && !stopped) {
      // Drop reports first: they are small, and an alert about a gap should not wait behind a backlog.
      const result = drops.pending ? await drops.send() : await sendBatch();
      if (result === 'ok') {
        attempt = 0;
        // Under steady traffic, the next batch waits until sendAt records are queued or the
        // interval passes (schedule() after this pump), as the first one did. Going round
        // at once posted whatever arrived during the last round trip, a few records per
        // request, and with a spool rewrote its cursor file per ack: ~100 µs of CPU per call
        // over HTTP (BENCHMARKS.md §2, round 5). A backlog still drains batch after batch.
        if (!flushing && !drops.pending && waiting() < sendAt) return;
        continue;
      }
      stats.retries++;
      const retryAfterMs = typeof result === 'number' ? result : 0;
      const backoff = Math.random() * Math.min(retryMaxMs, retryBaseMs * 2 ** attempt);
      attempt++;
      await sleep(Math.min(retryMaxMs, Math.max(backoff, retryAfterMs)));
    }
  }

  /** 'ok' when the batch is done with (shipped or rejected), else the Retry-After to honour (ms, maybe 0). */
  /**
   * Calls first, refusals in the room left: a flood of refusals never delays
   * a call's record, and steady traffic never starves the refusals.
   */
  async function sendBatch(): Promise<'ok' | number> {
    const calls = queue.peek(maxBatch);
    const refused = calls.length < maxBatch ? refusals.peek(maxBatch - calls.length) : [];
    const batch = fitBody(refused.length ? [...calls, ...refused] : calls);
    if (batch.length === 0) return 'ok';
    const ack = () => {
      const ofCalls = Math.min(batch.length, calls.length);
      queue.ack(ofCalls);
      refusals.ack(batch.length - ofCalls);
    };
    const result = await transport.send(batch);
    if (result.ok) {
      ack();
      stats.shipped += batch.length;
      return 'ok';
    }
    if (!result.retryable) {
      // The collector will never take this batch (400/413/...): count it as lost, report, move on.
      ack();
      stats.rejected += batch.length;
      dropped(batch.length, 'rejected');
      return 'ok';
    }
    return result.retryAfterMs ?? 0;
  }

  function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      t.unref();
      wakeBackoff = done;
      function done() {
        clearTimeout(t);
        wakeBackoff = undefined;
        resolve();
      }
    });
  }

  async function drainWithin(ms: number): Promise<boolean> {
    flushing++;
    try {
      return await drainUntil(Date.now() + ms);
    } finally {
      flushing--;
    }
  }

  async function drainUntil(deadline: number): Promise<boolean> {
    while (hasWork() && !stopped) {
      const left = deadline - Date.now();
      if (left <= 0) return false;
      let bound: NodeJS.Timeout | undefined;
      // This timer stays ref'd: it keeps the process alive while we drain.
      const timedOut = new Promise<'timeout'>((r) => (bound = setTimeout(() => r('timeout'), left)));
      const outcome = await Promise.race([pump(), timedOut]);
      clearTimeout(bound);
      if (outcome === 'timeout') return false;
    }
    return waiting() === 0;
  }

  function push(into: RecordQueue, json: string, whenFull: DropReason): void {
    if (closed) {
      stats.dropped++;
      return;
    }
    if (!into.push(json)) {
      dropped(1, whenFull);
      return;
    }
    schedule();
  }
  const enqueueJson = (json: string) => push(queue, json, 'queue_full');

  // Records spooled by a previous run ship now.
  if (hasWork()) schedule();

  return {
    enqueue(record) {
      enqueueJson(JSON.stringify(record));
    },
    enqueueJson,
    enqueueRefusalJson: (json) => push(refusals, json, 'refusals_full'),
    flush() {
      return drainWithin(drainTimeoutMs);
    },
    async sync() {
      await Promise.all([(queue as Partial<Spool>).sync?.(), (refusals as Partial<Spool>).sync?.()]);
    },
    async close() {
      closed = true;
      const drained = await drainWithin(drainTimeoutMs);
      stopped = true;
      if (timer) clearTimeout(timer);
      wakeBackoff?.();
      // Without a spool, what is left is lost; with one, it ships after the next start.
      if (!drained && !durable) stats.dropped += waiting();
      for (const s of spools) await s.close();
      return drained;
    },
    stats() {
      return { queued: waiting(), refusalsQueued: refusals.size, ...stats, dropsReported: drops.reported };
    },
    get dropped() {
      return stats.dropped;
    },
  };
}

/**
 * UTF-16 units per batch body: at most 3 bytes each in UTF-8, so a batch
 * stays under the collector's 16 MiB body limit (a 413 would drop it) even
 * when records are large.
 */
const MAX_BATCH_CHARS = 4 * 1024 * 1024;

/** The longest prefix of `lines` within MAX_BATCH_CHARS (at least one line). */
function fitBody(lines: string[]): string[] {
  let chars = 0;
  for (let i = 0; i < lines.length; i++) {
    chars += lines[i]!.length + 1;
    if (chars > MAX_BATCH_CHARS && i > 0) return lines.slice(0, i);
  }
  return lines;
}

/** `http://c/v1/records` → `http://c/v1/events`. */
export function eventsUrlFor(recordsUrl: string): string {
  return recordsUrl.replace(/\/v1\/records\/?$/, '/v1/events');
}
