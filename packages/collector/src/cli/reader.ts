/**
 * Where the CLI reads the audit trail from: the collector's audit API when one
 * is running (it owns the embedded store: one process per data directory),
 * else the store directly.
 */
import type { CliConfig } from './config.js';
import { collectorGet } from './collector-client.js';

export { CliError } from './collector-client.js';
import { listCalls, getTrace, type CallFilter, type TraceView } from '../audit/index.js';
import { openStore, type Store } from '../store/index.js';
import type { CallRecord } from 'mcptrail/record';

export interface AuditReader {
  source: string;
  listCalls(filter: CallFilter): Promise<CallRecord[]>;
  getTrace(traceId: string): Promise<TraceView>;
  close(): Promise<void>;
}

export async function openReader(config: CliConfig): Promise<AuditReader> {
  const api = apiReader(config);
  if (config.collectorExplicit || (await reachable(config.collectorUrl))) return api;
  const store = await openStore({ url: config.clickhouseUrl, dataDir: config.dataDir });
  return storeReader(store, config.clickhouseUrl ?? `${config.dataDir} (embedded)`);
}

function apiReader(config: CliConfig): AuditReader {
  return {
    source: config.collectorUrl,
    async listCalls(filter) {
      const qs = new URLSearchParams();
      for (const [k, v] of Object.entries(filter)) if (v !== undefined && v !== '') qs.set(k, String(v));
      const body = await collectorGet<{ calls: CallRecord[] }>(config, `/api/calls?${qs}`);
      return body.calls;
    },
    async getTrace(traceId) {
      return collectorGet<TraceView>(config, `/api/traces/${encodeURIComponent(traceId)}`);
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
