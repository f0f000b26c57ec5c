/**
 * Where the audit server's own records and spans go: into the collector's
 * store, through the same validation and batching writer as everything it
 * receives — never over HTTP to itself.
 *
 * - Records: the library's durable shipper (spooled on disk before the call
 *   returns when a spool directory is given, else a memory queue) whose
 *   transport is the writer. The row digests, dedup and ledger are the
 *   ingest path's, so `mcptrail verify` covers these rows like any other.
 * - Spans: a tracer provider of the audit server's own (service.name
 *   `mcptrail-audit`, never registered globally, so it neither claims nor
 *   joins the process's OpenTelemetry SDK — the demo's in `mcptrail up
 *   --demo`), batching into an exporter that is the OTLP receiver's mapping
 *   and the writer.
 *
 * No loop: writing a record or a span is not a tool call, so an audit call
 * leaves exactly one record and one SERVER span, and nothing it stores is
 * audited again.
 */
import type { FastifyBaseLogger } from 'fastify';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { JsonTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { Tracer } from '@opentelemetry/api';
import { createMemoryQueue, createRecordSink, createShipper, type BatchTransport, type Logger, type RecordSink, type SendResult, type Shipper } from 'mcptrail/record';
import { TABLES, type Store } from '../store/index.js';
import { HttpError } from '../collector/errors.js';
import { decodeTracesRequest } from '../collector/otlp/decode.js';
import { spansToRows } from '../collector/otlp/rows.js';
import { validateRecordsAsync } from '../collector/processors/records.js';
import { storeEvents } from '../collector/receivers/events.js';
import type { BatchWriter } from '../collector/writer.js';

export interface SelfAuditOptions {
  store: Store;
  writer: BatchWriter;
  service: string;
  /** Durable spool of the audit server's records; without it they wait in memory. */
  spoolDir?: string;
  logger?: FastifyBaseLogger;
}

export interface SelfAudit {
  sink: RecordSink;
  tracer: Tracer;
  /** Ships the records and spans pending now (before the writer stops taking rows). */
  drain(): Promise<void>;
  /** Stops shipping; a spool keeps what is left for the next start. */
  close(): Promise<void>;
}

/** How long a flush waits for the writer: it is in this process, so a longer wait means the store is failing. */
const DRAIN_TIMEOUT_MS = 2_000;
const SPAN_BATCH_DELAY_MS = 200;

export function createSelfAudit(opts: SelfAuditOptions): SelfAudit {
  const logger = opts.logger as Logger | undefined;
  const shipper: Shipper = createShipper({
    // Never dialled: both transports are in-process.
    url: 'http://in-process.invalid/v1/records',
    transport: writerTransport(opts.writer),
    eventsTransport: eventsTransport(opts.store),
    spoolDir: opts.spoolDir,
    // An explicit queue, so MCPTRAIL_SPOOL_DIR (another process's spool, say) is never picked up.
    queue: opts.spoolDir ? undefined : createMemoryQueue(10_000),
    drainTimeoutMs: DRAIN_TIMEOUT_MS,
    service: opts.service,
    logger,
  });
  // No log line per record: the collector stores them itself.
  const sink = createRecordSink({ shipper });

  const processor = new BatchSpanProcessor(writerSpanExporter(opts.writer), { scheduledDelayMillis: SPAN_BATCH_DELAY_MS });
  const provider = new BasicTracerProvider({ resource: resourceFromAttributes({ 'service.name': opts.service }), spanProcessors: [processor] });

  return {
    sink,
    tracer: provider.getTracer(opts.service),
    async drain() {
      await Promise.all([shipper.flush(), provider.forceFlush()]);
    },
    async close() {
      await Promise.all([shipper.close(), provider.shutdown()]);
    },
  };
}

function writerTransport(writer: BatchWriter): BatchTransport {
  return {
    async send(lines) {
      try {
        const keyed = await validateRecordsAsync(Buffer.from(lines.join('\n')));
        await writer.write(TABLES.toolCalls, { keyed });
        return { ok: true };
      } catch (err) {
        return failed(err);
      }
    },
  };
}

function eventsTransport(store: Store): BatchTransport {
  return {
    async send(lines) {
      try {
        await storeEvents(store, Buffer.from(lines.join('\n')));
        return { ok: true };
      } catch (err) {
        return failed(err);
      }
    },
  };
}

/** A refusal as the HTTP transport would have seen it: 4xx is final (except 429), the rest is retried. */
function failed(err: unknown): SendResult {
  if (err instanceof HttpError) {
    const retryAfter = Number(err.headers['retry-after']);
    return {
      ok: false,
      retryable: err.statusCode === 429 || err.statusCode >= 500,
      status: err.statusCode,
      retryAfterMs: Number.isFinite(retryAfter) ? retryAfter * 1000 : undefined,
    };
  }
  return { ok: false, retryable: true };
}

/** Spans → OTLP/JSON (the SDK's own serializer) → the receiver's row mapping → the writer. */
function writerSpanExporter(writer: BatchWriter): SpanExporter {
  return {
    export(spans: ReadableSpan[], done: (result: ExportResult) => void) {
      let batch;
      try {
        batch = spansToRows(decodeTracesRequest(Buffer.from(JsonTraceSerializer.serializeRequest(spans)!), 'json'));
      } catch (err) {
        done({ code: ExportResultCode.FAILED, error: err as Error });
        return;
      }
      writer.write(TABLES.otelTraces, { ndjson: batch.ndjson, rows: batch.accepted }).then(
        () => done({ code: ExportResultCode.SUCCESS }),
        (err: Error) => done({ code: ExportResultCode.FAILED, error: err }),
      );
    },
    async shutdown() {},
  };
}
