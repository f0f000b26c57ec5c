/** The CLI's reads from the collector's `/api/*`: bearer read token, errors a person can act on. */
import type { CliConfig } from './config.js';

export class CliError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
  }
}

export async function collectorGet<T>(config: Pick<CliConfig, 'collectorUrl' | 'readToken'>, path: string, timeoutMs = 30_000): Promise<T> {
  const { body } = await collectorGetRaw(config, path, timeoutMs);
  return JSON.parse(body.toString('utf8')) as T;
}

/** The body as bytes, with the response headers (exports: NDJSON or Parquet, cursor in a header). */
export async function collectorGetRaw(
  config: Pick<CliConfig, 'collectorUrl' | 'readToken'>,
  path: string,
  timeoutMs = 30_000,
): Promise<{ body: Buffer; headers: Headers }> {
  let res: Response;
  try {
    res = await fetch(config.collectorUrl + path, {
      headers: config.readToken ? { authorization: `Bearer ${config.readToken}` } : {},
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    throw new CliError(`cannot reach the collector at ${config.collectorUrl} (${(err as Error).cause ?? (err as Error).message}). Is \`mcptrail up\` running?`);
  }
  let bytes: Buffer;
  try {
    bytes = Buffer.from(await res.arrayBuffer());
  } catch (err) {
    throw new CliError(`the connection to the collector was cut while reading ${path.split('?')[0]} (${(err as Error).message})`);
  }
  if (!res.ok) {
    const detail = errorDetail(bytes.toString('utf8'));
    if (res.status === 401) throw new CliError(`the collector refused the read (401): set MCPTRAIL_READ_TOKEN. ${detail}`);
    if (res.status === 403) throw new CliError(`the read token is scoped to another tenant (403): ${detail}`);
    throw new CliError(`collector answered ${res.status} for ${path.split('?')[0]}: ${detail}`);
  }
  return { body: bytes, headers: res.headers };
}

function errorDetail(body: string): string {
  try {
    const parsed = JSON.parse(body) as { error?: string; message?: string };
    return parsed.message ?? parsed.error ?? body;
  } catch {
    return body; // not JSON: show as is
  }
}
