/**
 * Where the CLI reads the audit trail from: the collector's audit API when one
 * is running (it owns the embedded store: one process per data directory),
 * else the store directly.
 */
import type { CliConfig } from './config.js';
import { collectorGet, collectorGetRaw } from './collector-client.js';
import { readExportPage, type ExportFormat, type ExportPage, type ExportRange } from '../audit/export.js';
import { ledgerHeads, verifyLedger, type VerifyReport } from '../audit/verify.js';
import type { LedgerHead } from '../audit/ledger-entry.js';

export { CliError } from './collector-client.js';
import { listCalls, getTrace, type CallFilter, type TraceView } from '../audit/index.js';
import { openStore, type Store } from '../store/index.js';
import type { CallRecord } from 'mcptrail/record';

export interface AuditReader {
  source: string;
  listCalls(filter: CallFilter): Promise<CallRecord[]>;
  getTrace(traceId: string): Promise<TraceView>;
  exportPage(range: ExportRange, cursor: string | undefined, opts: { limit: number; format: ExportFormat }): Promise<ExportPage>;
  verify(opts: { tenant?: string; sinceMs?: number; expect?: LedgerHead }): Promise<VerifyReport>;
  heads(tenant?: string): Promise<LedgerHead[]>;
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
    async exportPage(range, cursor, opts) {
      const qs = new URLSearchParams({ since: new Date(range.sinceMs).toISOString(), until: new Date(range.untilMs).toISOString(), limit: String(opts.limit), format: opts.format });
      if (range.tenant !== undefined) qs.set('tenant', range.tenant);
      if (cursor) qs.set('cursor', cursor);
      const { body, headers } = await collectorGetRaw(config, `/api/export?${qs}`, 300_000);
      const next = headers.get('x-mcptrail-next-cursor') ?? undefined;
      const key = (h: string) => {
        const [ts, callId] = (headers.get(h) ?? '').split(' ');
        return ts && callId ? { ts, callId } : undefined;
      };
      return {
        format: opts.format,
        body,
        rows: Number(headers.get('x-mcptrail-rows') ?? 0),
        first: key('x-mcptrail-first'),
        last: key('x-mcptrail-last'),
        next,
        complete: headers.get('x-mcptrail-complete') === 'true',
      };
    },
    async verify(opts) {
      const qs = new URLSearchParams();
      if (opts.tenant !== undefined) qs.set('tenant', opts.tenant);
      if (opts.sinceMs !== undefined) qs.set('since', new Date(opts.sinceMs).toISOString());
      if (opts.expect) qs.set('expect', `${opts.expect.seq}:${opts.expect.digest}`);
      return collectorGet<VerifyReport>(config, `/api/ledger/verify?${qs}`, 600_000);
    },
    async heads(tenant) {
      const qs = tenant !== undefined ? `?${new URLSearchParams({ tenant })}` : '';
      return (await collectorGet<{ heads: LedgerHead[] }>(config, `/api/ledger/heads${qs}`)).heads;
    },
    async close() {},
  };
}

function storeReader(store: Store, source: string): AuditReader {
  return {
    source,
    listCalls: (filter) => listCalls(store, filter),
    getTrace: (traceId) => getTrace(store, traceId),
    exportPage: (range, cursor, opts) => readExportPage(store, range, cursor, opts),
    verify: (opts) => verifyLedger(store, { tenant: opts.tenant, sinceMs: opts.sinceMs, expect: opts.expect ? [opts.expect] : undefined }),
    heads: (tenant) => ledgerHeads(store, tenant),
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
