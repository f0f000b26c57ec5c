import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { parseRetryAfter } from '../runtime/resilience/failures.js';

/** Delivery of one batch of lines (NDJSON records by default) to a collector route. */
export type SendResult =
  | { ok: true }
  | { ok: false; retryable: boolean; status?: number; retryAfterMs?: number };

export interface BatchTransport {
  send(lines: readonly string[]): Promise<SendResult>;
}

export interface HttpBatchTransportOptions {
  url: string;
  token?: string;
  timeoutMs?: number;
  /** Extra request headers (an explicit `authorization` here wins over `token`). */
  headers?: Record<string, string>;
  /** The body of a batch: NDJSON (default) or another framing of the same lines. */
  body?: BatchBody;
}

/** How a batch of lines becomes a request body. */
export interface BatchBody {
  contentType: string;
  encode(lines: readonly string[]): { parts: string[]; bytes: number };
}

export const NDJSON_BODY: BatchBody = { contentType: 'application/x-ndjson', encode: (lines) => ndjsonParts(lines) };

export function createHttpBatchTransport(opts: HttpBatchTransportOptions): BatchTransport {
  const url = new URL(opts.url);
  const secure = url.protocol === 'https:';
  // One keep-alive pool per transport: a batch reuses the previous batch's connection.
  const agent = secure ? new HttpsAgent({ keepAlive: true, maxSockets: 4 }) : new HttpAgent({ keepAlive: true, maxSockets: 4 });
  const send = secure ? httpsRequest : httpRequest;
  const framing = opts.body ?? NDJSON_BODY;
  const baseHeaders: Record<string, string> = { 'content-type': framing.contentType };
  if (opts.token) baseHeaders.authorization = `Bearer ${opts.token}`;
  for (const [k, v] of Object.entries(opts.headers ?? {})) baseHeaders[k.toLowerCase()] = v;
  const timeoutMs = opts.timeoutMs ?? 10_000;
  // An IPv6 literal goes to http.request without its URL brackets.
  const hostname = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const target = { protocol: url.protocol, hostname, port: url.port, path: `${url.pathname}${url.search}`, method: 'POST', agent };

  return {
    send(lines) {
      const body = framing.encode(lines);
      return new Promise<SendResult>((resolve) => {
        let settled = false;
        const finish = (result: SendResult) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          resolve(result);
        };
        const req = send({ ...target, headers: { ...baseHeaders, 'content-length': body.bytes } }, (res) => {
          const status = res.statusCode ?? 0;
          const result: SendResult =
            status >= 200 && status < 300
              ? { ok: true }
              : { ok: false, retryable: isRetryableStatus(status), status, retryAfterMs: parseRetryAfter(res.headers['retry-after']) };
          // Drain the body so the connection returns to the pool; the status decides.
          res.on('end', () => finish(result));
          res.on('close', () => finish(result));
          res.on('error', () => finish(result));
          res.resume();
        });
        // A bound on the whole exchange, like AbortSignal.timeout did.
        const timer = setTimeout(() => req.destroy(new Error('timeout')), timeoutMs);
        timer.unref();
        req.on('error', () => finish({ ok: false, retryable: true }));
        for (const part of body.parts) req.write(part);
        req.end();
      });
    },
  };
}

/**
 * The batch as NDJSON (`line\n` each), in string parts of about PART_CHARS
 * written one after the other. One string (or Buffer) for a whole batch,
 * hundreds of KiB, is a large object mapped and unmapped per batch: that
 * cost several µs per record, more than the encoding itself.
 */
const PART_CHARS = 32 * 1024;

export function ndjsonParts(lines: readonly string[]): { parts: string[]; bytes: number } {
  if (lines.length === 0) return { parts: ['\n'], bytes: 1 };
  const parts: string[] = [];
  let bytes = 0;
  let start = 0;
  let chars = 0;
  for (let i = 0; i < lines.length; i++) {
    chars += lines[i]!.length + 1;
    if (chars >= PART_CHARS || i === lines.length - 1) {
      const part = `${lines.slice(start, i + 1).join('\n')}\n`;
      parts.push(part);
      bytes += Buffer.byteLength(part);
      start = i + 1;
      chars = 0;
    }
  }
  return { parts, bytes };
}

/**
 * Only answers that say "this batch is bad" are final. Auth and routing
 * failures (401/403/404) are configuration that gets fixed: the spool waits
 * rather than dropping audit records.
 */
export function isRetryableStatus(status: number): boolean {
  return !(status === 400 || status === 413 || status === 415 || status === 422);
}
