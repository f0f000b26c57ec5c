import type { CallRecord } from './schema.js';
import type { Logger } from './logger.js';
import type { Shipper } from './shipper.js';
import { recordLineWriter } from './record-line.js';

/**
 * Where finished CallRecords go. emit() must not throw or block the call.
 * With a spooling shipper, the record is in the spool file when emit()
 * returns (survives the process dying) and fdatasync'ed within the group-commit
 * window (survives the machine dying); `await sync()` waits for the latter.
 */
export interface RecordSink {
  emit(record: CallRecord): void;
  /**
   * A record of a request the HTTP edge refused (unauthenticated, out of
   * scope, over a budget, or a summary of requests refused unread). Shipped
   * like the others but from a queue of its own with its own budget: a flood
   * of refusals fills that budget and drops refusals (counted), never the
   * records of calls that ran. Sinks without it get refusals through emit().
   */
  emitRefusal?(record: CallRecord): void;
  /** Resolves once every record emitted so far is durable on disk (at once without a spool). */
  sync?(): Promise<void>;
  flush(): Promise<void>;
  close(): Promise<void>;
}

export interface RecordSinkOptions {
  /** Writes one JSON line per record: `{ ..., "msg": "tool_call", "record": { ...CallRecord } }`. */
  logger?: Logger;
  /** Ships records to the collector. */
  shipper?: Shipper;
}

/**
 * The record is nested under `record` rather than spread at the top level, so
 * its fields never collide with pino's own (level, time, msg, pid, hostname)
 * and a log pipeline can lift it out with one path.
 */
export function createRecordSink(opts: RecordSinkOptions): RecordSink {
  const { logger, shipper } = opts;
  // The record is serialised once and the same JSON feeds the log line and the shipper.
  const writeLine = logger ? recordLineWriter(logger) : undefined;
  const shipJson = shipper?.enqueueJson ? shipper.enqueueJson.bind(shipper) : undefined;
  const once = (!logger || writeLine) && (!shipper || shipJson);
  return {
    emit(record) {
      if (once) {
        const json = JSON.stringify(record);
        writeLine?.(json);
        shipJson?.(json);
        return;
      }
      logger?.info({ record }, 'tool_call');
      shipper?.enqueue(record);
    },
    emitRefusal(record) {
      const json = JSON.stringify(record);
      if (writeLine) writeLine(json);
      else logger?.info({ record }, 'tool_call');
      if (shipper?.enqueueRefusalJson) shipper.enqueueRefusalJson(json);
      else shipper?.enqueue(record);
    },
    async sync() {
      await shipper?.sync();
    },
    async flush() {
      await shipper?.flush();
      flushLogger(logger);
    },
    async close() {
      await shipper?.close();
      flushLogger(logger);
    },
  };
}

function flushLogger(logger: Logger | undefined): void {
  try {
    logger?.flush();
  } catch {
    // Sync destinations have nothing to flush.
  }
}
