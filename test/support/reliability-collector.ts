/** A collector on a fresh embedded store over loopback, and record helpers, for the reliability tests. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { emptyRecord, type CallRecord } from '../../packages/mcptrail/src/record/schema.js';
import { openStore, migrate, TABLES, type Store } from '../../packages/collector/src/store/index.js';
import { createCollector, type Collector, type CollectorOptions } from '../../packages/collector/src/collector/index.js';

export interface TestCollector {
  dir: string;
  store: Store;
  collector: Collector;
  base: string;
  /** Stops the collector (flushing), then closes the store and removes its files. */
  close(): Promise<void>;
}

export async function startTestCollector(opts: Partial<Omit<CollectorOptions, 'store'>> & { store?: Store } = {}): Promise<TestCollector> {
  const dir = mkdtempSync(join(tmpdir(), 'mcptrail-rel-'));
  const store = opts.store ?? (await openStore({ dataDir: dir, url: '' }));
  await migrate(store);
  const collector = await createCollector({ ingestToken: '', readToken: '', readTokens: {}, batch: { maxDelayMs: 10 }, ...opts, store });
  await collector.app.listen({ host: '127.0.0.1', port: 0 });
  const base = `http://127.0.0.1:${(collector.app.server.address() as AddressInfo).port}`;
  return {
    dir,
    store,
    collector,
    base,
    async close() {
      await collector.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function callRecord(overrides: Partial<CallRecord> = {}): CallRecord {
  return {
    ...emptyRecord(),
    call_id: randomUUID(),
    ts: new Date().toISOString(),
    service: 'crm',
    tool: 'crm.search',
    tenant_id: 'acme',
    agent_id: 'agent-1',
    duration_ms: 12,
    ...overrides,
  };
}

export const ndjson = (records: unknown[]): string => records.map((r) => JSON.stringify(r)).join('\n') + '\n';

export function postRecords(base: string, body: string | Buffer, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${base}/v1/records`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson', ...headers }, body });
}

export async function countRows(store: Store, table: string = TABLES.toolCalls): Promise<number> {
  const [row] = await store.query<{ n: number }>(`SELECT count() AS n FROM ${table}`);
  return Number(row!.n);
}

/** What the rollup says: the sum every dashboard and alert over tool_calls_1m reads. */
export async function rollupCalls(store: Store): Promise<number> {
  const [row] = await store.query<{ n: number }>(`SELECT sum(calls) AS n FROM ${TABLES.toolCalls1m}`);
  return Number(row!.n);
}
