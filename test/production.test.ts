/**
 * The demo's incidents come from the production mechanisms: a compressed
 * timeline (slow upstream, revoked OAuth grant, noisy importer) against the
 * real demo stack, observed through the official SDK client and the records
 * the server writes to its log stream.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { startDemo, type Demo } from '../packages/collector/src/demo/index.js';
import { unwrapUntrusted } from '../packages/mcptrail/src/instrument/index.js';
import type { CallRecord } from '../packages/mcptrail/src/record/index.js';

let collector: Server;
let demo: Demo;
let dataDir: string;
let log = '';

const records = (): CallRecord[] =>
  log
    .split('\n')
    .filter((l) => l.includes('"tool_call"'))
    .map((l) => (JSON.parse(l) as { record: CallRecord }).record);

async function connectAs(agentId: string): Promise<Client> {
  const agent = demo.file.agents.find((a) => a.agentId === agentId)!;
  const client = new Client({ name: 'production-test', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(demo.file.mcpUrl), { requestInit: { headers: { authorization: `Bearer ${agent.token}` } } }));
  return client;
}

before(async () => {
  // A stand-in collector that accepts everything (the store is covered elsewhere).
  collector = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
  });
  await new Promise<void>((r) => collector.listen(0, '127.0.0.1', r));
  const { port } = collector.address() as AddressInfo;
  dataDir = await mkdtemp(join(tmpdir(), 'mcptrail-production-'));
  demo = await startDemo({
    collectorUrl: `http://127.0.0.1:${port}`,
    dataDir,
    mcpPort: 0,
    upstreamPort: 0,
    ratePerAgent: 0,
    recordLog: new Writable({
      write(chunk, _enc, cb) {
        log += chunk.toString();
        cb();
      },
    }),
    incidents: {
      steps: [
        { kind: 'revoked_token', tenantId: 'initech', atMs: 500, durationMs: 2_500 },
        { kind: 'slow_upstream', tenantId: 'globex', atMs: 500, durationMs: 8_000 },
        { kind: 'noisy_tenant', tenantId: 'acme', atMs: 500, durationMs: 7_000 },
      ],
    },
  });
});

after(async () => {
  await demo?.close();
  await new Promise((r) => collector.close(r));
  await rm(dataDir, { recursive: true, force: true });
});

test('the demo upstream authenticates with per-tenant OAuth tokens; internal fields never reach the agent', async () => {
  const client = await connectAs('acme-support-bot');
  const res = (await client.callTool({ name: 'crm.search_contacts', arguments: { query: 'ada', limit: 2 } })) as { content: { text: string }[]; isError?: boolean };
  await client.close();
  assert.notEqual(res.isError, true);
  const body = JSON.parse(unwrapUntrusted(res.content[0]!.text)) as { contacts: Record<string, unknown>[] };
  assert.equal(body.contacts.length, 2);
  assert.deepEqual(Object.keys(body.contacts[0]!).sort(), ['company', 'email', 'id', 'name']);
  assert.ok(!res.content[0]!.text.includes('crm_int_') && !res.content[0]!.text.includes('crm_sync_'));
  assert.ok((demo.upstream.tokenRequests.get('acme') ?? 0) >= 1, 'the server refreshed through /oauth/token');
  const rec = records().find((r) => r.agent_id === 'acme-support-bot')!;
  assert.equal(rec.outcome, 'ok');
  assert.ok(!log.includes('crm_rt_') && !log.includes('crm_at_'), 'no upstream token in the log');
});

test('incidents: revoked grant → auth-refresh failures, slow upstream → deadline_exceeded, noisy importer → rate limits', async () => {
  await new Promise((r) => setTimeout(r, 800));
  const initech = await connectAs('initech-ops-agent');
  const revoked = (await initech.callTool({ name: 'crm.search_contacts', arguments: { query: 'x' } })) as { isError?: boolean };
  assert.equal(revoked.isError, true);
  const failed = records().filter((r) => r.tenant_id === 'initech' && r.auth_refresh_failed > 0);
  assert.ok(failed.length >= 1, 'an auth_refresh_failed record');
  assert.equal(failed[0]!.auth_refresh_reason, 'invalid_grant');

  const globex = await connectAs('globex-sales-agent');
  const slow = (await globex.callTool({ name: 'crm.search_contacts', arguments: { query: 'x' } })) as { isError?: boolean; structuredContent?: Record<string, unknown> };
  assert.equal(slow.isError, true);
  assert.equal(slow.structuredContent?.deadline_exceeded, true);
  const deadline = records().find((r) => r.tenant_id === 'globex' && r.outcome === 'deadline_exceeded')!;
  assert.equal(deadline.budget_ms_total, 5_000);

  const noisy = records().filter((r) => r.agent_id === 'acme-batch-importer');
  assert.ok(noisy.length > 0, 'the noisy importer ran');
  assert.ok(noisy.some((r) => r.outcome === 'rate_limited' && r.rate_limit_budget === 'agent'), 'its agent budget ran out at the edge');

  // After the revocation ends, an operator's reconnect makes initech work again.
  await new Promise((r) => setTimeout(r, 2_000));
  const back = (await initech.callTool({ name: 'crm.search_contacts', arguments: { query: 'x' } })) as { isError?: boolean };
  assert.notEqual(back.isError, true);
  assert.equal(records().filter((r) => r.tenant_id === 'initech').at(-1)!.auth_refresh, 1);
  await initech.close();
  await globex.close();
});
