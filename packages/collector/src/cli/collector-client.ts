/** The CLI's reads from the collector's `/api/*`: bearer read token, errors a person can act on. */
import type { CliConfig } from './config.js';

export class CliError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
  }
}

export async function collectorGet<T>(config: Pick<CliConfig, 'collectorUrl' | 'readToken'>, path: string, timeoutMs = 30_000): Promise<T> {
  let res: Response;
  try {
    res = await fetch(config.collectorUrl + path, {
      headers: config.readToken ? { authorization: `Bearer ${config.readToken}` } : {},
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    throw new CliError(`cannot reach the collector at ${config.collectorUrl} (${(err as Error).cause ?? (err as Error).message}). Is \`mcptrail up\` running?`);
  }
  const body = await res.text();
  if (!res.ok) {
    const detail = errorDetail(body);
    if (res.status === 401) throw new CliError(`the collector refused the read (401): set MCPTRAIL_READ_TOKEN. ${detail}`);
    if (res.status === 403) throw new CliError(`the read token is scoped to another tenant (403): ${detail}`);
    throw new CliError(`collector answered ${res.status} for ${path.split('?')[0]}: ${detail}`);
  }
  return JSON.parse(body) as T;
}

function errorDetail(body: string): string {
  try {
    const parsed = JSON.parse(body) as { error?: string; message?: string };
    return parsed.message ?? parsed.error ?? body;
  } catch {
    return body; // not JSON: show as is
  }
}
