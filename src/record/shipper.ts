/**
 * Ships CallRecords to the collector in NDJSON batches. The queue (memory
 * now, a disk spool later) and the transport are separate pieces; this module
 * only schedules: batch on size or interval, retry with full-jitter backoff,
 * and bounded flush on shutdown.
 */
import type { CallRecord } from './schema.js';
import { createMemoryQueue, type RecordQueue } from './queue.js';
import { createHttpBatchTransport, type BatchTransport } from './transport.js';

export interface ShipperOptions {
  /** Full URL of the records endpoint, e.g. `${collectorUrl}/v1/records`. */
  url: string;
  /** Sent as `Authorization: Bearer` (MCPTRAIL_INGEST_TOKEN). */
  token?: string;
  maxBatch?: number;
  flushIntervalMs?: number;
  maxQueue?: number;
  /** Backoff bounds for retries. */
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** How long flush()/close() wait for the queue to drain. */
  drainTimeoutMs?: number;
  /** Replace the memory queue (e.g. with a disk spool). */
  queue?: RecordQueue;
  /** Replace the HTTP transport. */
  transport?: BatchTransport;
}

export interface ShipperStats {
  queued: number;
  shipped: number;
  /** Records dropped because the queue was full (or the shipper closed). */
  dropped: number;
  /** Records the collector refused with a non-retryable status. */
  rejected: number;
  retries: number;
}

export interface Shipper {
  enqueue(record: CallRecord): void;
  /** Ships everything queued; resolves true when drained within the bound. */
  flush(): Promise<boolean>;
  /** Flushes (bounded), then stops; later records are dropped and counted. */
  close(): Promise<boolean>;
  stats(): ShipperStats;
  readonly dropped: number;
}

export function createShipper(opts: ShipperOptions): Shipper {
  const maxBatch = opts.maxBatch ?? 500;
  const flushIntervalMs = opts.flushIntervalMs ?? 200;
  const retryBaseMs = opts.retryBaseMs ?? 100;
  const retryMaxMs = opts.retryMaxMs ?? 30_000;
  const drainTimeoutMs = opts.drainTimeoutMs ?? 10_000;
  const queue = opts.queue ?? createMemoryQueue(opts.maxQueue ?? 100_000);
  const transport = opts.transport ?? createHttpBatchTransport({ url: opts.url, token: opts.token });

  const stats = { shipped: 0, dropped: 0, rejected: 0, retries: 0 };
  let timer: NodeJS.Timeout | undefined;
  let pumping: Promise<void> | undefined;
  let closed = false;
  let stopped = false;
  let wakeBackoff: (() => void) | undefined;

  function schedule(): void {
    if (pumping || timer || stopped) return;
    if (queue.size >= maxBatch) {
      pump();
      return;
    }
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
      if (queue.size > 0) schedule();
    });
    return pumping;
  }

  async function drain(): Promise<void> {
    let attempt = 0;
    while (queue.size > 0 && !stopped) {
      const batch = queue.peek(maxBatch);
      const result = await transport.send(batch);
      if (result.ok) {
        queue.ack(batch.length);
        stats.shipped += batch.length;
        attempt = 0;
        continue;
      }
      if (!result.retryable) {
        // The collector will never take this batch (400/401/413...): count, move on.
        queue.ack(batch.length);
        stats.rejected += batch.length;
        attempt = 0;
        continue;
      }
      stats.retries++;
      const backoff = Math.random() * Math.min(retryMaxMs, retryBaseMs * 2 ** attempt);
      attempt++;
      await sleep(Math.min(retryMaxMs, Math.max(backoff, result.retryAfterMs ?? 0)));
    }
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
    const deadline = Date.now() + ms;
    while (queue.size > 0 && !stopped) {
      const left = deadline - Date.now();
      if (left <= 0) return false;
      let bound: NodeJS.Timeout | undefined;
      // This timer stays ref'd: it keeps the process alive while we drain.
      const timedOut = new Promise<'timeout'>((r) => (bound = setTimeout(() => r('timeout'), left)));
      const outcome = await Promise.race([pump(), timedOut]);
      clearTimeout(bound);
      if (outcome === 'timeout') return false;
    }
    return queue.size === 0;
  }

  return {
    enqueue(record) {
      if (closed || !queue.push(JSON.stringify(record))) {
        stats.dropped++;
        return;
      }
      schedule();
    },
    flush() {
      return drainWithin(drainTimeoutMs);
    },
    async close() {
      closed = true;
      const drained = await drainWithin(drainTimeoutMs);
      stopped = true;
      if (timer) clearTimeout(timer);
      wakeBackoff?.();
      if (!drained) stats.dropped += queue.size;
      return drained;
    },
    stats() {
      return { queued: queue.size, ...stats };
    },
    get dropped() {
      return stats.dropped;
    },
  };
}
