/**
 * The whole path, as a user runs it: `mcptrail up --demo` in its own process,
 * an agent calling a tool through the official MCP SDK client over HTTP with
 * its own `_meta.traceparent`, then `mcptrail calls --json` and
 * `mcptrail trace --json` answering who ran it, for whom, and what happened
 * upstream. Finally the embedded ClickHouse and the server's log are searched
 * for a planted canary secret.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { openStore } from '../packages/collector/src/store/index.js';

const run = promisify(execFile);
const CLI = join(import.meta.dirname, '..', 'packages', 'collector', 'bin', 'mcptrail.js');
const CANARY = `canary-sk-live-${randomBytes(8).toString('hex')}`;

interface DemoFile {
  mcpUrl: string;
  collectorUrl: string;
  upstreamUrl: string;
  agents: Array<{ agentId: string; tenantId: string; token: string; scopes: string[] }>;
}

let dataDir: string;
let up: ChildProcess;
let upOutput = '';
let demo: DemoFile;

async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n--- mcptrail up output ---\n${upOutput}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function cli(...args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, [CLI, ...args], {
    env: { ...process.env, MCPTRAIL_DATA_DIR: dataDir, MCPTRAIL_COLLECTOR_URL: demo.collectorUrl },
  });
  return stdout;
}

function newTraceparent(): { traceId: string; spanId: string; traceparent: string } {
  const traceId = randomBytes(16).toString('hex');
  const spanId = randomBytes(8).toString('hex');
  return { traceId, spanId, traceparent: `00-${traceId}-${spanId}-01` };
}

async function connectAs(agentId: string): Promise<Client> {
  const agent = demo.agents.find((a) => a.agentId === agentId);
  assert.ok(agent, `demo.json lists ${agentId}`);
  const client = new Client({ name: 'e2e-test', version: '1.0.0' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(demo.mcpUrl), { requestInit: { headers: { authorization: `Bearer ${agent.token}` } } }),
  );
  return client;
}

before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'mcptrail-e2e-'));
  up = spawn(process.execPath, [CLI, 'up', '--demo', '--port', '0', '--mcp-port', '0', '--upstream-port', '0', '--rate', '2'], {
    // No scheduled incidents: this test wants the quiet baseline.
    env: { ...process.env, MCPTRAIL_DATA_DIR: dataDir, MCPTRAIL_DEMO_INCIDENTS: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  up.stdout!.on('data', (d) => (upOutput += d));
  up.stderr!.on('data', (d) => (upOutput += d));
  const demoPath = join(dataDir, 'demo.json');
  demo = await waitFor('demo.json', async () => (existsSync(demoPath) ? (JSON.parse(await readFile(demoPath, 'utf8')) as DemoFile) : undefined), 60_000);
});

after(async () => {
  if (up.exitCode === null) {
    up.kill('SIGTERM');
    await new Promise((r) => up.once('exit', r));
  }
  await rm(dataDir, { recursive: true, force: true });
});

test('demo.json follows the contract', () => {
  assert.match(demo.mcpUrl, /^http:\/\/127\.0\.0\.1:\d+\/mcp$/);
  assert.match(demo.collectorUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.ok(new Set(demo.agents.map((a) => a.tenantId)).size >= 3, 'agents for at least 3 tenants');
  for (const a of demo.agents) {
    assert.ok(a.agentId && a.tenantId && a.token && Array.isArray(a.scopes));
  }
});

test('the banner names the tools the server lists', async () => {
  const client = await connectAs('acme-billing-bot');
  const { tools } = await client.listTools();
  await client.close();
  assert.ok(tools.length >= 6, `${tools.length} tools`);
  // demo.json is written before the banner is printed.
  await waitFor('the banner', async () => (upOutput.includes('Ctrl-C stops everything') ? true : undefined));
  const banner = upOutput.split('\n').find((l) => l.includes('demo MCP')) ?? '';
  assert.match(banner, new RegExp(`\\(${tools.length} tools: `));
  for (const t of tools) assert.ok(banner.includes(t.name), `banner names ${t.name}: ${banner}`);
});

test('one call: exactly one record and a trace that reaches the upstream', async () => {
  const client = await connectAs('acme-billing-bot');
  const { traceId, spanId, traceparent } = newTraceparent();
  const result = await client.callTool({ name: 'crm.search_contacts', arguments: { query: 'ada', limit: 3 }, _meta: { traceparent } });
  await client.close();
  // The demo upstream fails a few percent of requests (reads are retried, but
  // may still fail or trip a budget); that is still one call, one record.
  const failureOutcomes = ['system_error', 'deadline_exceeded', 'upstream_unavailable', 'rate_limited'];

  const records = await waitFor('the call record', async () => {
    const rows = JSON.parse(await cli('calls', '--json', '--since', '10m', '--tool', 'crm.search_contacts', '--limit', '1000')) as Array<Record<string, unknown>>;
    const mine = rows.filter((r) => r.trace_id === traceId);
    return mine.length > 0 ? mine : undefined;
  });
  assert.equal(records.length, 1, 'exactly one record for the call');
  const [rec] = records;
  assert.equal(rec.agent_id, 'acme-billing-bot');
  assert.equal(rec.tenant_id, 'acme');
  assert.equal(rec.tool, 'crm.search_contacts');
  if (result.isError) assert.ok(failureOutcomes.includes(rec.outcome as string), `outcome ${rec.outcome}`);
  else assert.equal(rec.outcome, 'ok');
  assert.equal(rec.auth_method, 'jwt');
  assert.ok((rec.upstream_calls as number) >= 1);

  const view = await waitFor('server and upstream spans', async () => {
    const v = JSON.parse(await cli('trace', traceId, '--json')) as {
      spans: Array<{ spanId: string; parentSpanId: string; kind: string; name: string; serviceName: string; attributes: Record<string, string> }>;
      calls: unknown[];
    };
    const server = v.spans.find((s) => s.kind === 'Server');
    const client = server && v.spans.find((s) => s.kind === 'Client' && s.parentSpanId === server.spanId);
    return server && client ? { v, server, client } : undefined;
  });
  assert.equal(view.server.name, 'tools/call crm.search_contacts');
  assert.equal(view.server.parentSpanId, spanId, 'the server span is parented on the _meta traceparent');
  assert.equal(view.server.attributes['mcp.method.name'], 'tools/call');
  assert.equal(view.server.attributes['gen_ai.tool.name'], 'crm.search_contacts');
  assert.equal(view.server.serviceName, 'crm-mcp');
  assert.equal(view.client.attributes['http.request.method'], 'GET');
  assert.equal(view.v.calls.length, 1, 'the trace view joins the call record');

  const upstream = (await (await fetch(`${demo.upstreamUrl}/_debug/requests?trace_id=${traceId}`)).json()) as {
    requests: Array<{ traceparent: string; requestId: string }>;
  };
  assert.ok(upstream.requests.length >= 1, 'the upstream CRM saw the call');
  for (const r of upstream.requests) {
    assert.equal(r.traceparent.split('-')[1], traceId, 'upstream received the same trace id');
    assert.equal(r.requestId, rec.call_id, 'X-Request-Id carries the call id');
  }
  assert.ok(upstream.requests.some((r) => r.traceparent.split('-')[2] === view.client.spanId), 'traceparent names the CLIENT span');
});

test('a refund without its scope is denied (HTTP 403 at the edge) and recorded', async () => {
  const client = await connectAs('globex-sales-agent');
  const { traceId, traceparent } = newTraceparent();
  await assert.rejects(
    client.callTool({ name: 'crm.issue_refund', arguments: { deal_id: 'D-1', amount: 10, intent: 'Refund the double charge on D-1.' }, _meta: { traceparent } }),
    (err: { code?: number; message?: string }) => err.code === 403 && /refunds:write/.test(err.message ?? ''),
  );
  await client.close();
  const rec = await waitFor('the denied record', async () => {
    const rows = JSON.parse(await cli('calls', '--json', '--since', '10m', '--outcome', 'denied', '--tenant', 'globex', '--limit', '1000')) as Array<Record<string, unknown>>;
    return rows.find((r) => r.trace_id === traceId);
  });
  assert.equal(rec.scope_required, 'refunds:write');
  assert.equal(rec.upstream_calls, 0, 'a denied call never reaches the upstream');
});

test('the synthetic agents fill the trail for several tenants; the table is readable', async () => {
  const tenants = await waitFor('records from 3 tenants', async () => {
    const rows = JSON.parse(await cli('calls', '--json', '--since', '10m', '--limit', '1000')) as Array<{ tenant_id: string }>;
    const set = new Set(rows.map((r) => r.tenant_id));
    return set.size >= 3 ? set : undefined;
  });
  assert.ok(tenants.has('acme') && tenants.has('globex') && tenants.has('initech'));
  const text = await cli('calls', '--tenant', 'initech', '--since', '10m');
  assert.match(text.split('\n')[0], /TIME \(UTC\)\s+TENANT\s+AGENT\s+CLIENT\s+MCP\s+TOOL\s+OUTCOME/);
  assert.match(text, /initech-ops-agent/);
  assert.doesNotMatch(text, /acme-support-bot/, 'the tenant filter holds');
});

test('bad CLI input gets a clear error', async () => {
  await assert.rejects(cli('calls', '--outcome', 'exploded'), (err: { stderr: string; code: number }) => {
    assert.equal(err.code, 2);
    assert.match(err.stderr, /--outcome must be one of/);
    return true;
  });
  await assert.rejects(cli('trace', 'not-a-trace'), (err: { stderr: string }) => /32 lowercase hex/.test(err.stderr));
});

test('a canary secret in tool arguments reaches neither ClickHouse nor the log', async () => {
  const client = await connectAs('initech-ops-agent');
  const { traceId, traceparent } = newTraceparent();
  await client.callTool({ name: 'crm.search_contacts', arguments: { query: CANARY }, _meta: { traceparent } });
  await client.callTool({ name: 'crm.issue_refund', arguments: { deal_id: 'D-2', amount: 5, note: `api_key=${CANARY}`, intent: `Refund D-2; the customer pasted ${CANARY} in the ticket.` }, _meta: { traceparent } });
  await client.close();
  await waitFor('both records and the spans', async () => {
    const v = JSON.parse(await cli('trace', traceId, '--json')) as { spans: unknown[]; calls: unknown[] };
    return v.calls.length === 2 && v.spans.length >= 3 ? v : undefined;
  });

  // Stop mcptrail (flushes everything), then read the embedded store directly.
  up.kill('SIGTERM');
  const code = await new Promise((r) => up.once('exit', r));
  assert.equal(code, 0, `mcptrail up exits cleanly on SIGTERM\n${upOutput}`);

  const store = await openStore({ dataDir });
  try {
    for (const table of ['tool_calls', 'otel_traces']) {
      const [row] = await store.query<{ hits: string; rows: string }>(
        `SELECT countIf(position(formatRow('JSONEachRow', *), {canary:String}) > 0) AS hits, count() AS rows FROM mcptrail.${table}`,
        { canary: CANARY },
      );
      assert.ok(Number(row.rows) > 0, `${table} has rows`);
      assert.equal(Number(row.hits), 0, `canary found in ${table}`);
    }
  } finally {
    await store.close();
  }
  const log = await readFile(join(dataDir, 'mcp-server.log'), 'utf8');
  assert.ok(log.includes(traceId), 'the record lines are in the log');
  assert.ok(!log.includes(CANARY), 'canary found in the MCP server log');
  assert.ok(!upOutput.includes(CANARY), 'canary found on the console');
});
