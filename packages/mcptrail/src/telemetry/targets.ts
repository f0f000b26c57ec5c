/**
 * Where records, spans and metrics go, from options and the environment.
 *
 * Spans (metrics alike, with their own variables):
 *   1. OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, used as is: an operator's per-signal
 *      override wins even over a URL in code;
 *   2. the base URL in code (`collectorUrl` / `endpoint`) + `/v1/traces`;
 *   3. OTEL_EXPORTER_OTLP_ENDPOINT + `/v1/traces`;
 *   4. MCPTRAIL_COLLECTOR_URL + `/v1/traces`;
 *   5. http://127.0.0.1:4318/v1/traces (the OTLP default, and `mcptrail up`'s port).
 * Records: the base URL in code, else MCPTRAIL_COLLECTOR_URL, else the
 * default, + `/v1/records` (OTLP variables do not apply: records are not OTLP).
 * Headers: OTEL_EXPORTER_OTLP_{TRACES,METRICS}_HEADERS or OTEL_EXPORTER_OTLP_HEADERS,
 * plus `Authorization: Bearer` with the ingest token (MCPTRAIL_INGEST_TOKEN)
 * unless those variables set one.
 */

export const DEFAULT_COLLECTOR_URL = 'http://127.0.0.1:4318';
/** @deprecated kept for existing imports; the same URL as DEFAULT_COLLECTOR_URL. */
export const DEFAULT_OTLP_ENDPOINT = DEFAULT_COLLECTOR_URL;

export interface TargetOptions {
  /** Base URL of the collector (records, spans and metrics). */
  collectorUrl?: string;
  /** Bearer token for the collector's ingest routes (default env MCPTRAIL_INGEST_TOKEN). */
  ingestToken?: string;
  /** Extra headers for the OTLP exports. */
  headers?: Record<string, string>;
}

export interface Targets {
  recordsUrl: string;
  tracesUrl: string;
  metricsUrl: string;
  /** `Authorization` for the records shipper (the ingest token), if any. */
  token: string | undefined;
  traceHeaders: Record<string, string>;
  metricHeaders: Record<string, string>;
}

export function resolveTargets(opts: TargetOptions = {}, env: NodeJS.ProcessEnv = process.env): Targets {
  const codeBase = trimSlash(opts.collectorUrl);
  const collectorBase = codeBase ?? trimSlash(env.MCPTRAIL_COLLECTOR_URL) ?? DEFAULT_COLLECTOR_URL;
  const otlpBase = codeBase ?? trimSlash(env.OTEL_EXPORTER_OTLP_ENDPOINT) ?? collectorBase;
  const token = opts.ingestToken ?? (env.MCPTRAIL_INGEST_TOKEN || undefined);
  return {
    recordsUrl: `${collectorBase}/v1/records`,
    tracesUrl: env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || `${otlpBase}/v1/traces`,
    metricsUrl: env.OTEL_EXPORTER_OTLP_METRICS_ENDPOINT || `${otlpBase}/v1/metrics`,
    token,
    traceHeaders: otlpHeaders(env.OTEL_EXPORTER_OTLP_TRACES_HEADERS ?? env.OTEL_EXPORTER_OTLP_HEADERS, token, opts.headers),
    metricHeaders: otlpHeaders(env.OTEL_EXPORTER_OTLP_METRICS_HEADERS ?? env.OTEL_EXPORTER_OTLP_HEADERS, token, opts.headers),
  };
}

function otlpHeaders(fromEnv: string | undefined, token: string | undefined, fromCode: Record<string, string> | undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(parseHeaderList(fromEnv))) headers[k.toLowerCase()] = v;
  for (const [k, v] of Object.entries(fromCode ?? {})) headers[k.toLowerCase()] = v;
  if (token && headers.authorization === undefined) headers.authorization = `Bearer ${token}`;
  return headers;
}

function trimSlash(url: string | undefined): string | undefined {
  return url ? url.replace(/\/+$/, '') : undefined;
}

/**
 * OTEL_EXPORTER_OTLP_HEADERS: `key=value` pairs separated by commas, values
 * percent-encoded (the OTel environment specification; what the SDK's own
 * parser accepts). Written here so reading the environment does not load
 * @opentelemetry/core at import.
 */
export function parseHeaderList(value: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of (value ?? '').split(',')) {
    const eq = pair.indexOf('=');
    if (eq <= 0) continue;
    const key = pair.slice(0, eq).trim();
    const raw = pair.slice(eq + 1).trim();
    if (!key) continue;
    try {
      out[key] = decodeURIComponent(raw);
    } catch (err) {
      // A malformed escape: keep the value as written rather than lose the header.
      if (!(err instanceof URIError)) throw err;
      out[key] = raw;
    }
  }
  return out;
}
