/** Delivery of one NDJSON batch to the collector's /v1/records. */
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
}

export function createHttpBatchTransport(opts: HttpBatchTransportOptions): BatchTransport {
  const headers: Record<string, string> = { 'content-type': 'application/x-ndjson' };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  const timeoutMs = opts.timeoutMs ?? 10_000;

  return {
    async send(lines) {
      let res: Response;
      try {
        res = await fetch(opts.url, {
          method: 'POST',
          headers,
          body: `${lines.join('\n')}\n`,
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch {
        return { ok: false, retryable: true };
      }
      // Drain the body so the connection returns to the pool.
      await res.arrayBuffer().catch(() => undefined);
      if (res.ok) return { ok: true };
      return { ok: false, retryable: isRetryableStatus(res.status), status: res.status, retryAfterMs: parseRetryAfter(res.headers.get('retry-after')) };
    },
  };
}

/**
 * Only answers that say "this batch is bad" are final. Auth and routing
 * failures (401/403/404) are configuration that gets fixed: the spool waits
 * rather than dropping audit records.
 */
export function isRetryableStatus(status: number): boolean {
  return !(status === 400 || status === 413 || status === 415 || status === 422);
}

/** Retry-After as delta-seconds or an HTTP date, in milliseconds. */
export function parseRetryAfter(value: string | null): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}
