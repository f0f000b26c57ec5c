/**
 * Issue 15's "done when" for the audit MCP server, as a user runs it:
 * `mcptrail up --demo` in its own process with tenant read tokens; the banner
 * names `<collector>/mcp`; an agent issues a refund through the demo server;
 * the official v2 client, pinned to MCP 2026-07-28 and holding acme's read
 * token, asks audit_search_calls and audit_explain_call and gets the agent
 * that issued it, and cannot see globex's data. An audit call answered just
 * before a SIGKILL reaches the store after the restart, through the audit
 * server's spool, and the ledger holds.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as TransportV1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { until } from './support/until.js';

const CLI = join(import.meta.dirname, '..', 'packages', 'collector', 'bin', 'mcptrail.js');
const ACME = `acme-read-${randomBytes(12).toString('hex')}`;
const GLOBEX = `globex-read-${randomBytes(12).toString('hex')}`;

interface DemoFile {
  mcpUrl: string;
  collectorUrl: string;
  agents: Array<{ agentId: string; tenantId: string; token: string }>;
}

let dataDir: string;
let up: ChildProcess;
let output = '';
let demo: DemoFile;

const waitFor = <T>(what: string, fn: () => Promise<T | undefined>) => until(what, fn, { timeoutMs: 60_000, context: () => `--- mcptrail up output ---\n${output}` });

before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'mcptrail-audit-up-'));
  up = spawn(process.execPath, [CLI, 'up', '--demo', '--port', '0', '--mcp-port', '0', '--upstream-port', '0', '--rate', '0'], {
    env: { ...process.env, MCPTRAIL_DATA_DIR: dataDir, MCPTRAIL_DEMO_INCIDENTS: '0', MCPTRAIL_READ_TOKENS: JSON.stringify({ [ACME]: { tenant: 'acme' }, [GLOBEX]: { tenant: 'globex' } }) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  up.stdout!.on('data', (d) => (output += d));
  up.stderr!.on('data', (d) => (output += d));
  await waitFor('the banner', async () => (output.includes('Ctrl-C stops everything') ? true : undefined));
  demo = JSON.parse(await readFile(join(dataDir, 'demo.json'), 'utf8')) as DemoFile;
});

after(async () => {
  if (up.exitCode === null) {
    up.kill('SIGTERM');
    await new Promise((r) => up.once('exit', r));
  }
  await rm(dataDir, { recursive: true, force: true });
});

async function auditClient(token: string) {
  const client = new Client({ name: 'refund-auditor', version: '1.0.0' }, { versionNegotiation: { mode: { pin: '2026-07-28' } } });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${demo.collectorUrl}/mcp`), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
  return client;
}

type Result = { isError?: boolean; content: { text: string }[]; structuredContent?: any };

test('the banner prints the audit MCP endpoint', () => {
  const line = output.split('\n').find((l) => l.includes('audit MCP')) ?? '';
  assert.match(line, new RegExp(`${demo.collectorUrl.replace(/[.]/g, '\\.')}/mcp  \\(5 tools: audit_search_calls, audit_get_trace, audit_tenant_health, audit_list_alerts, audit_explain_call; bearer: a read token\\)`));
});

test('a tenant token asks who issued a refund and gets the right agent; another tenant stays invisible', async () => {
  const agent = demo.agents.find((a) => a.agentId === 'acme-billing-bot')!;
  const crm = new ClientV1({ name: 'billing', version: '1.0.0' });
  await crm.connect(new TransportV1(new URL(demo.mcpUrl), { requestInit: { headers: { authorization: `Bearer ${agent.token}` } } }));
  // The stand-in CRM fails a few percent of requests: each attempt is a refund call with its record either way.
  let refund: Result | undefined;
  for (let i = 0; i < 5 && (!refund || refund.isError); i++) refund = (await crm.callTool({ name: 'crm.issue_refund', arguments: { deal_id: 'D-9', amount: 30, intent: 'Refund D-9 for the duplicate invoice.' } })) as Result;
  await crm.close();
  assert.ok(!refund!.isError, 'a refund went through');
  const globexAgent = demo.agents.find((a) => a.tenantId === 'globex')!;
  const globexCrm = new ClientV1({ name: 'globex', version: '1.0.0' });
  await globexCrm.connect(new TransportV1(new URL(demo.mcpUrl), { requestInit: { headers: { authorization: `Bearer ${globexAgent.token}` } } }));
  await globexCrm.callTool({ name: 'crm.search_contacts', arguments: { query: 'linus' } });
  await globexCrm.close();

  const acme = await auditClient(ACME);
  assert.equal(acme.getNegotiatedProtocolVersion(), '2026-07-28');
  const found = await waitFor('the refund in the trail', async () => {
    const r = (await acme.callTool({ name: 'audit_search_calls', arguments: { tool: 'crm.issue_refund', outcome: 'ok', since: '15m' } })) as Result;
    return r.structuredContent?.calls?.length ? r : undefined;
  });
  const call = found.structuredContent.calls[0];
  assert.equal(call.agent_id, 'acme-billing-bot');
  const why = (await acme.callTool({ name: 'audit_explain_call', arguments: { call_id: call.call_id } })) as Result;
  assert.equal(why.structuredContent.who.agent, 'acme-billing-bot');
  assert.match(why.content[0]!.text, /who: agent acme-billing-bot \(subject user:bob@acme\.example\) of tenant acme/);

  const other = (await acme.callTool({ name: 'audit_search_calls', arguments: { tenant: 'globex' } })) as Result;
  assert.equal(other.isError, true);
  const everything = (await acme.callTool({ name: 'audit_search_calls', arguments: { since: '15m', limit: 200 } })) as Result;
  assert.ok(everything.structuredContent.calls.every((c: { tenant_id: string }) => c.tenant_id === 'acme'));
  await acme.close();

  const globex = await auditClient(GLOBEX);
  const hidden = (await globex.callTool({ name: 'audit_explain_call', arguments: { call_id: call.call_id } })) as Result;
  assert.equal(hidden.isError, true);
  assert.equal(hidden.structuredContent.error, 'not_found');
  await globex.close();
});

test('an audit call answered just before a SIGKILL is stored after the restart (its spool), and the ledger holds', async () => {
  const marker = `marker-${randomBytes(6).toString('hex')}`;
  const acme = await auditClient(ACME);
  await acme.callTool({ name: 'audit_search_calls', arguments: { agent: marker } });
  // Killed within milliseconds of the answer: its record is in the spool, usually not yet in the store.
  up.kill('SIGKILL');
  await new Promise((r) => up.once('exit', r));
  await acme.close().catch(() => undefined);

  output = '';
  up = spawn(process.execPath, [CLI, 'up', '--port', '0'], {
    env: { ...process.env, MCPTRAIL_DATA_DIR: dataDir, MCPTRAIL_READ_TOKENS: JSON.stringify({ [ACME]: { tenant: 'acme' } }) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  up.stdout!.on('data', (d) => (output += d));
  up.stderr!.on('data', (d) => (output += d));
  const collectorUrl = await waitFor('the banner', async () => /collector\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1]);
  const env = { ...process.env, MCPTRAIL_DATA_DIR: dataDir, MCPTRAIL_COLLECTOR_URL: collectorUrl, MCPTRAIL_READ_TOKEN: ACME };
  const audited = await waitFor('the spooled audit record', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [CLI, 'calls', '--tool', 'audit_search_calls', '--since', '15m', '--json', '--limit', '1000'], { env });
    const calls = JSON.parse(stdout) as { service: string; tenant_id: string; agent_id: string; args_summary: string }[];
    return calls.find((c) => c.args_summary.includes(marker));
  });
  assert.equal(audited.service, 'mcptrail-audit');
  assert.equal(audited.tenant_id, 'acme');
  assert.match(audited.agent_id, /^read-token:[0-9a-f]{8}$/);

  up.kill('SIGTERM');
  await new Promise((r) => up.once('exit', r));
  const verify = await promisify(execFile)(process.execPath, [CLI, 'verify', '--tenant', 'acme'], { env: { ...process.env, MCPTRAIL_DATA_DIR: dataDir } });
  assert.match(verify.stdout, /acme: OK/);
});
