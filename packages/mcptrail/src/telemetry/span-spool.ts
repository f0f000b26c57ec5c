/**
 * An OTLP/HTTP span exporter that survives a collector outage: every span is
 * written to a disk spool (the records' spool module, in its own directory)
 * the moment the SDK exports it, and shipped from there as OTLP/JSON to
 * `/v1/traces` by the records' shipper — the same bounds (256 MiB by
 * default, oldest dropped first), backoff, restart replay and drop
 * accounting, reported as `span_drop` pipeline events.
 *
 * One spool line is one span, serialised by the OpenTelemetry transformer
 * as the `ResourceSpans` entry the official exporter would send, so a drop
 * counts spans exactly; a batch body is those entries joined into one
 * `ExportTraceServiceRequest` (the collector accepts repeated resources).
 */
import type { ExportResult } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import { lazy } from '../lazy.js';
import { createHttpBatchTransport, createShipper, type BatchBody, type Logger, type Shipper, type ShipperStats } from '../record/index.js';

export interface SpoolingSpanExporterOptions {
  /** Full URL of the OTLP traces endpoint (…/v1/traces). */
  url: string;
  /** Spool directory (one process per directory). */
  dir: string;
  /** Request headers (e.g. `authorization`). */
  headers?: Record<string, string>;
  /** Where `span_drop` events go (the collector's /v1/events). */
  eventsUrl: string;
  /** Spool size cap. Default 256 MiB. */
  maxBytes?: number;
  logger?: Logger;
  /** `service` of reported drop events. */
  service?: string;
  /** Batching of the shipper (default 200 ms). */
  flushIntervalMs?: number;
  /** Backoff bounds (default 100 ms to 5 s). */
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** How long forceFlush/shutdown wait for the collector (the spool keeps the rest). Default 2 s. */
  drainTimeoutMs?: number;
}

export interface SpoolingSpanExporter extends SpanExporter {
  stats(): ShipperStats;
}

const PREFIX = '{"resourceSpans":[';
const SUFFIX = ']}';

/** Lines are ResourceSpans JSON; the body wraps them into one request, in parts of the lines' own strings. */
const OTLP_SPANS_BODY: BatchBody = {
  contentType: 'application/json',
  encode(lines) {
    const parts = [PREFIX];
    let bytes = PREFIX.length + SUFFIX.length;
    for (let i = 0; i < lines.length; i++) {
      const part = i === 0 ? lines[i]! : `,${lines[i]}`;
      parts.push(part);
      bytes += Buffer.byteLength(part);
    }
    parts.push(SUFFIX);
    return { parts, bytes };
  },
};

const decoder = new TextDecoder();
const transformer = lazy<typeof import('@opentelemetry/otlp-transformer')>('@opentelemetry/otlp-transformer');
// ExportResultCode of @opentelemetry/core (SUCCESS 0, FAILED 1): a stable enum of the exporter contract.
const SUCCESS = 0 as ExportResult['code'];
const FAILED = 1 as ExportResult['code'];

/** The ResourceSpans entry of one span, as the OTLP/JSON exporter encodes it. */
export function spanLine(span: ReadableSpan): string | undefined {
  const bytes = transformer().JsonTraceSerializer.serializeRequest([span]);
  if (!bytes) return undefined;
  const json = decoder.decode(bytes);
  // One span, one resource: the request is exactly {"resourceSpans":[<entry>]}.
  if (!json.startsWith(PREFIX) || !json.endsWith(SUFFIX)) return undefined;
  return json.slice(PREFIX.length, json.length - SUFFIX.length);
}

export function createSpoolingSpanExporter(opts: SpoolingSpanExporterOptions): SpoolingSpanExporter {
  const shipper: Shipper = createShipper({
    url: opts.url,
    spoolDir: opts.dir,
    spoolMaxBytes: opts.maxBytes,
    transport: createHttpBatchTransport({ url: opts.url, headers: opts.headers, body: OTLP_SPANS_BODY }),
    eventsTransport: createHttpBatchTransport({ url: opts.eventsUrl, headers: pick(opts.headers, 'authorization') }),
    eventsUrl: opts.eventsUrl,
    dropEvent: 'span_drop',
    logger: opts.logger,
    service: opts.service,
    flushIntervalMs: opts.flushIntervalMs,
    retryBaseMs: opts.retryBaseMs,
    retryMaxMs: opts.retryMaxMs,
    drainTimeoutMs: opts.drainTimeoutMs ?? 2_000,
    // A span batch of 1,000 ResourceSpans is ~1.5 MB of JSON: well under the collector's body limit.
    maxBatch: 1000,
  });
  let stopped = false;
  return {
    export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
      if (stopped) {
        done({ code: FAILED, error: new Error('exporter is shut down') });
        return;
      }
      let unencodable = 0;
      for (const span of spans) {
        const line = spanLine(span);
        if (line === undefined) unencodable++;
        else shipper.enqueueJson!(line);
      }
      // On disk now (or counted as dropped by the spool): the SDK's part is done.
      done(unencodable === 0 ? { code: SUCCESS } : { code: FAILED, error: new Error(`${unencodable} span(s) could not be encoded`) });
    },
    async forceFlush(): Promise<void> {
      await shipper.flush();
    },
    async shutdown(): Promise<void> {
      if (stopped) return;
      stopped = true;
      await shipper.close();
    },
    stats: () => shipper.stats(),
  };
}

function pick(headers: Record<string, string> | undefined, name: string): Record<string, string> | undefined {
  const v = headers?.[name];
  return v === undefined ? undefined : { [name]: v };
}
