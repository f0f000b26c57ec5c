/**
 * Where the CLI reads the audit trail from: the collector's audit API when one
 * is running (it owns the embedded store: one process per data directory),
 * else the store directly.
 */
import type { CliConfig } from './config.js';
import { listCalls, getTrace, type CallFilter, type TraceView } from '../audit/index.js';
import { openStore, type Store } from '../store/index.js';
import type { CallRecord } from '../record/schema.js';

export interface AuditReader {
  source: string;
  listCalls(filter: CallFilter): Promise<CallRecord[]>;
  getTrace(traceId: string): Promise<TraceView>;
  close(): Promise<void>;
}

export class CliError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
  }
}

export async function openReader(config: CliConfig): Promise<AuditReader> {
  const api = apiReader(config);
  if (config.collectorExplicit || (await reachable(config.collectorUrl))) return api;
  const store = await openStore({ url: config.clickhouseUrl, dataDir: config.dataDir });
  return storeReader(store, config.clickhouseUrl ?? `${config.dataDir} (embedded)`);
}

function apiReader(config: CliConfig): AuditReader {
  const get = async (path: string): Promise<unknown> => {
    let res: Response;
    try {
      res = await fetch(config.collectorUrl + path, {
        headers: config.readToken ? { authorization: `Bearer ${config.readToken}` } : {},
        signal: AbortSignal.timeout(30_000),
      });
    } catch (err) {
      throw new CliError(`cannot reach the collector at ${config.collectorUrl} (${(err as Error).cause ?? (err as Error).message}). Is \`mcptrail up\` running?`);
    }
    const body = await res.text();
    if (!res.ok) {
      let detail = body;
      try {
        detail = (JSON.parse(body) as { error?: string; message?: string }).message ?? JSON.parse(body).error ?? body;
      } catch {
        /* not JSON: show as is */
      }
      if (res.status === 401) throw new CliError(`the collector refused the read (401): set MCPTRAIL_READ_TOKEN. ${detail}`);
      if (res.status === 403) throw new CliError(`the read token is scoped to another tenant (403): ${detail}`);
      throw new CliError(`collector answered ${res.status}: ${detail}`);
    }
    return JSON.parse(body);
  };
  return {
    source: config.collectorUrl,
    async listCalls(filter) {
      const qs = new URLSearchParams();
      for (const [k, v] of Object.entries(filter)) if (v !== undefined && v !== '') qs.set(k, String(v));
      const body = (await get(`/api/calls?${qs}`)) as { calls: CallRecord[] };
      return body.calls;
    },
    async getTrace(traceId) {
      return (await get(`/api/traces/${encodeURIComponent(traceId)}`)) as TraceView;
    },
    async close() {},
  };
}

function storeReader(store: Store, source: string): AuditReader {
  return {
    source,
    listCalls: (filter) => listCalls(store, filter),
    getTrace: (traceId) => getTrace(store, traceId),
    close: () => store.close(),
  };
}

async function reachable(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1_500) });
    return res.ok;
  } catch {
    return false;
  }
}
