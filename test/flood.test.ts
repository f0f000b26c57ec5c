/**
 * Refusals cannot flood the trail (issue 10, item 1). The reproduction: large
 * JSON-RPC batches of tools/call without a token, several at once, while an
 * authenticated agent works and the collector is down, into a small spool.
 * Before the fix every tools/call in a refused body left its own record and
 * span, the spool overflowed and dropped the oldest segments, and with them
 * records of authenticated calls that had been answered OK.
 *
 * Real parts: fastify + the official v1 SDK client over HTTP, the shipper with
 * its disk spool, a collector stand-in over HTTP that is down, then up.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { createAuthenticator } from '../packages/mcptrail/src/auth/index.js';
import { instrument } from '../packages/mcptrail/src/instrument/index.js';
import { createMcpHttpApp } from '../packages/mcptrail/src/instrument/fastify.js';
import { CallRecordSchema, createRecordSink, createShipper, emptyRecord, type CallRecord, type RecordSink, type Shipper } from '../packages/mcptrail/src/record/index.js';
import { connectClient, installTracing } from './support/mcp-harness.js';

installTracing();

const KEY = `flood-key-${randomBytes(8).toString('hex')}`;
const tools = { echo: { scope: 'crm:read' } };

/** A collector stand-in: 503 while down, stores every record line while up. */
function startCollector() {
  const records: CallRecord[] = [];
  /** Outcomes of each batch received. */
  const batches: string[][] = [];
  let up = false;
  const server = http.createServer(async (req, res) => {
    let body = '';
    for await (const chunk of req) body += chunk;
    if (!up) return void res.writeHead(503, { 'retry-after': '0' }).end();
    if (req.url === '/v1/records') {
      const batch = body.split('\n').filter(Boolean).map((line) => CallRecordSchema.parse(JSON.parse(line)));
      records.push(...batch);
      batches.push(batch.map((r) => r.outcome));
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
  return {
    records,
    batches,
    setUp: (v: boolean) => void (up = v),
    listen: () => new Promise<string>((r) => server.listen(0, '127.0.0.1', () => r(`http://127.0.0.1:${(server.address() as AddressInfo).port}`))),
    close: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))),
  };
}

/** One request body of `calls` tools/call messages (the was 3.5 MB with 30,000). */
function floodBody(calls: number, tag: string): string {
  const messages = Array.from({ length: calls }, (_, i) => ({ jsonrpc: '2.0', id: `${tag}-${i}`, method: 'tools/call', params: { name: 'echo', arguments: { text: 'x' } } }));
  return JSON.stringify(messages);
}

describe('an unauthenticated flood', () => {
  const collector = startCollector();
  let dir: string;
  let shipper: Shipper;
  let sink: RecordSink;
  let url: string;
  let close: () => Promise<void>;

  before(async () => {
    const base = await collector.listen();
    dir = await mkdtemp(join(tmpdir(), 'mcptrail-flood-'));
    // A small spool: the old edge filled it in a few requests.
    shipper = createShipper({ url: `${base}/v1/records`, spoolDir: dir, spoolMaxBytes: 1024 * 1024, spoolSegmentBytes: 64 * 1024, retryBaseMs: 20, retryMaxMs: 100 });
    sink = createRecordSink({ shipper });
    const app = await createMcpHttpApp({
      sdk: 'v1',
      service: 'flood-mcp',
      sink,
      tools,
      // A small burst, a slow refill: the limiter's part of the test does not depend on timing.
      guard: { burst: 5, perSecond: 0.1 },
      authenticator: createAuthenticator({ apiKeys: { [KEY]: { agentId: 'agent-ok', tenantId: 'tenant-ok', scopes: ['crm:read'] } } }),
      serverFactory: () => {
        const server = new McpServer({ name: 'flood', version: '1.0.0' });
        server.registerTool('echo', { inputSchema: { text: z.string() } }, async ({ text }) => ({ content: [{ type: 'text' as const, text }] }));
        return instrument(server, { service: 'flood-mcp', sink, tools });
      },
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/mcp`;
    let closed: Promise<void> | undefined;
    close = () => (closed ??= app.close());
  });
  after(async () => {
    await close();
    await sink.close();
    await collector.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('every authenticated call answered OK keeps its record; each refused request leaves at most one record, counting its calls', async () => {
    const REQUESTS = 24;
    const CALLS = 10_000;
    const statuses: number[] = [];
    const retryAfter: (string | null)[] = [];
    const flood = async (worker: number) => {
      for (let i = worker; i < REQUESTS; i += 3) {
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
          body: floodBody(CALLS, `f${i}`),
        });
        await res.arrayBuffer();
        statuses.push(res.status);
        if (res.status === 429) retryAfter.push(res.headers.get('retry-after'));
      }
    };
    // The agent works through the flood, sharing the flood's address (a NAT, a proxy).
    const agent = async () => {
      const c = await connectClient('v1', url, { authorization: `Bearer ${KEY}` });
      const answered: string[] = [];
      for (let i = 0; i < 14; i++) {
        const text = `ok-${i}-${randomBytes(4).toString('hex')}`;
        const res = await c.callTool('echo', { text });
        if (!res.isError && res.content?.[0]?.text?.includes(text)) answered.push(text);
      }
      await c.close();
      return answered;
    };
    const [answered] = await Promise.all([agent(), flood(0), flood(1), flood(2)]);
    assert.equal(answered.length, 14, 'the authenticated agent was served throughout the flood');

    // Closing the app emits the open per-minute summary (it would at the minute's end).
    await close();
    collector.setUp(true);
    assert.equal(await shipper.flush(), true, 'the spool drained');
    const records = collector.records;

    // Every authenticated call answered OK has its record.
    const ok = records.filter((r) => r.agent_id === 'agent-ok' && r.outcome === 'ok');
    assert.equal(ok.length, 14, `authenticated records kept (${ok.length}/14); shipper dropped ${shipper.stats().dropped}`);
    assert.equal(shipper.stats().dropped, 0, 'nothing dropped');

    // Each refused request: one record with the calls it carried, or (refused unread) a count in the per-minute summary.
    const refused = statuses.filter((s) => s === 401).length;
    const limited = statuses.filter((s) => s === 429).length;
    assert.equal(refused + limited, REQUESTS, `every flood request refused (${statuses.join(',')})`);
    const perRequest = records.filter((r) => r.outcome === 'unauthenticated' && r.error_code !== 'address_rate_limited');
    assert.equal(perRequest.length, refused, 'one record per refused request');
    for (const r of perRequest) assert.equal(r.calls_in_request, CALLS, 'the record counts the calls the request carried');
    const summaries = records.filter((r) => r.error_code === 'address_rate_limited');
    assert.equal(
      summaries.reduce((n, r) => n + r.calls_in_request, 0),
      limited,
      'requests refused unread are counted in the per-minute summary',
    );
    assert.ok(limited > 0, 'a flood from one address is rate-limited');
    for (const v of retryAfter) assert.ok(Number(v) >= 1, `429 carries Retry-After (${v})`);
  });
});

describe('the spool protects what matters', () => {
  const collector = startCollector();
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mcptrail-classes-'));
  });
  after(async () => {
    await collector.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('refusal records past their budget are dropped (counted); records of calls are never evicted for them', async () => {
    const base = await collector.listen();
    const shipper = createShipper({
      url: `${base}/v1/records`,
      spoolDir: dir,
      spoolMaxBytes: 4 * 1024 * 1024,
      refusalSpoolMaxBytes: 64 * 1024,
      spoolSegmentBytes: 16 * 1024,
      retryBaseMs: 20,
      retryMaxMs: 100,
    });
    const sink = createRecordSink({ shipper });
    const calls: string[] = [];
    const refusal = (): CallRecord => ({ ...emptyRecord(), call_id: crypto.randomUUID(), ts: new Date().toISOString(), outcome: 'unauthenticated', calls_in_request: 50 });
    for (let i = 0; i < 2_000; i++) {
      // Interleaved: 40 refusals for every call.
      for (let j = 0; j < 40; j++) sink.emitRefusal!(refusal());
      const r: CallRecord = { ...emptyRecord(), call_id: crypto.randomUUID(), ts: new Date().toISOString(), tool: 'echo', tenant_id: 't', agent_id: 'a', auth_method: 'api_key' };
      calls.push(r.call_id);
      sink.emit(r);
    }
    const stats = shipper.stats();
    assert.ok(stats.dropped > 0, 'the refusal budget overflowed');
    collector.setUp(true);
    assert.equal(await shipper.flush(), true);
    const stored = new Set(collector.records.map((r) => r.call_id));
    assert.equal(calls.filter((id) => stored.has(id)).length, calls.length, 'every call record delivered');
    assert.equal(collector.records.filter((r) => r.outcome === 'unauthenticated').length + shipper.stats().dropped, 80_000, 'refusals delivered or counted as dropped');
    await sink.close();
  });

  test('steady traffic does not starve refusals: both classes share a batch, calls first', async () => {
    const other = startCollector();
    const base = await other.listen();
    const dir2 = await mkdtemp(join(tmpdir(), 'mcptrail-classes-'));
    const shipper = createShipper({ url: `${base}/v1/records`, spoolDir: dir2, retryBaseMs: 20, retryMaxMs: 100 });
    const sink = createRecordSink({ shipper });
    for (let i = 0; i < 10; i++) {
      sink.emitRefusal!({ ...emptyRecord(), call_id: crypto.randomUUID(), ts: new Date().toISOString(), outcome: 'unauthenticated' });
      sink.emit({ ...emptyRecord(), call_id: crypto.randomUUID(), ts: new Date().toISOString(), outcome: 'ok' });
    }
    other.setUp(true);
    assert.equal(await shipper.flush(), true);
    assert.deepEqual(other.batches, [[...Array(10).fill('ok'), ...Array(10).fill('unauthenticated')]]);
    await sink.close();
    await other.close();
    await rm(dir2, { recursive: true, force: true });
  });
});
