/**
 * The library as a team installs it (issue 11, done when): `npm pack` of
 * packages/mcptrail installed from its tarball into a fresh project outside
 * the workspace that holds nothing but `@modelcontextprotocol/sdk`; an express
 * server using the SDK's own Streamable HTTP transport and `requireBearerAuth`,
 * instrumented in one line, called by the official client; the same for
 * stdio. The record (agent, tenant, tool, outcome) and its SERVER span must be
 * in the collector of `npm start` — a real `mcptrail up --demo` child process.
 * Also: the packed types check in that project with skipLibCheck off.
 *
 * The install reads the npm registry (cache first); it is bounded by
 * PACKED_INSTALL_TIMEOUT_MS (default 4 min).
 */
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '..');
const CLI = join(ROOT, 'packages', 'collector', 'bin', 'mcptrail.js');
const SDK_VERSION = (JSON.parse(readFileSync(join(ROOT, 'node_modules', '@modelcontextprotocol', 'sdk', 'package.json'), 'utf8')) as { version: string }).version;
const TOKEN = `packed-${randomBytes(8).toString('hex')}`;

let project: string;
let dataDir: string;
let up: ChildProcess;
let upOutput = '';
let collectorUrl: string;

const SERVER = `
import express from 'express';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { requireBearerAuth } from '@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js';
import { z } from 'zod';
import { instrument } from 'mcptrail';

// The team's own token check; what it returns is the SDK's AuthInfo.
const verifier = { async verifyAccessToken(token) {
  if (token !== process.env.TOKEN) throw Object.assign(new Error('bad token'), { name: 'InvalidTokenError' });
  return { token, clientId: 'agent-packed', scopes: ['crm:read'], expiresAt: Math.floor(Date.now() / 1000) + 600, extra: { tenant_id: 'tenant-packed' } };
} };
const app = express().use(express.json());
app.post('/mcp', requireBearerAuth({ verifier }), async (req, res) => {
  const server = instrument(new McpServer({ name: 'packed-crm', version: '1.0.0' }));
  server.registerTool('crm.lookup', { inputSchema: { id: z.string() } }, async ({ id }) => ({ content: [{ type: 'text', text: 'found ' + id }] }));
  const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
  await server.connect(transport);
  await transport.handleRequest(req, res, req.body);
});
const listener = app.listen(0, '127.0.0.1', () => console.log('port: ' + listener.address().port));
`;

const STDIO = `
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { z } from 'zod';
import { instrument } from 'mcptrail';

const server = instrument(new McpServer({ name: 'packed-notes', version: '1.0.0' }), { tenant: 'tenant-stdio' });
server.registerTool('notes.find', { inputSchema: { q: z.string() } }, async ({ q }) => ({ content: [{ type: 'text', text: 'none for ' + q }] }));
await server.connect(new StdioServerTransport());
`;

const TYPES = `
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { instrument, shutdown, type InstrumentOptions, type ToolPolicy } from 'mcptrail';

const tools: Record<string, ToolPolicy> = { 'crm.lookup': { scope: 'crm:read', kind: 'read', budgetMs: 5_000 } };
const options: InstrumentOptions = { tools, tenant: 'acme', principal: (auth) => ({ agentId: String(auth?.clientId ?? 'local') }) };
const server: McpServer = instrument(new McpServer({ name: 'typed', version: '1.0.0' }), options);
await server.close();
await shutdown();
`;

before(async () => {
  project = mkdtempSync(join(tmpdir(), 'mcptrail-packed-'));
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', project], { cwd: join(ROOT, 'packages', 'mcptrail') });
  const tarball = join(project, (JSON.parse(stdout) as { filename: string }[])[0]!.filename);
  writeFileSync(
    join(project, 'package.json'),
    JSON.stringify({ name: 'packed-test-project', private: true, type: 'module', dependencies: { '@modelcontextprotocol/sdk': SDK_VERSION, mcptrail: `file:${tarball}` } }, null, 2),
  );
  await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], {
    cwd: project,
    timeout: Number(process.env.PACKED_INSTALL_TIMEOUT_MS ?? 240_000),
  });
  writeFileSync(join(project, 'server.mjs'), SERVER);
  writeFileSync(join(project, 'stdio.mjs'), STDIO);
  writeFileSync(join(project, 'types.ts'), TYPES);

  dataDir = mkdtempSync(join(tmpdir(), 'mcptrail-packed-up-'));
  up = spawn(process.execPath, [CLI, 'up', '--demo', '--port', '0', '--mcp-port', '0', '--upstream-port', '0', '--rate', '0'], {
    env: { ...process.env, MCPTRAIL_DATA_DIR: dataDir, MCPTRAIL_DEMO_INCIDENTS: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  up.stdout!.on('data', (d) => (upOutput += d));
  up.stderr!.on('data', (d) => (upOutput += d));
  const demoPath = join(dataDir, 'demo.json');
  await until('mcptrail up', async () => existsSync(demoPath) && /Ctrl-C/.test(upOutput));
  collectorUrl = (JSON.parse(readFileSync(demoPath, 'utf8')) as { collectorUrl: string }).collectorUrl;
});

after(async () => {
  if (up && up.exitCode === null) {
    up.kill('SIGTERM');
    await new Promise((r) => up.once('exit', r));
  }
  rmSync(project, { recursive: true, force: true });
  rmSync(dataDir, { recursive: true, force: true });
});

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}\n${upOutput}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function projectEnv(name: string): Record<string, string> {
  return { ...(process.env as Record<string, string>), MCPTRAIL_COLLECTOR_URL: collectorUrl, MCPTRAIL_SPOOL_DIR: join(project, `spool-${name}`), TOKEN };
}

async function cli(...args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, [CLI, ...args], { env: { ...process.env, MCPTRAIL_DATA_DIR: dataDir, MCPTRAIL_COLLECTOR_URL: collectorUrl } });
  return stdout;
}

/** The call's record and its SERVER span, read the way a user would: `mcptrail trace <id> --json`. */
async function storedTrace(traceId: string) {
  let view: { spans: { kind: string; name: string; serviceName: string }[]; calls: Record<string, unknown>[] } | undefined;
  await until(`trace ${traceId}`, async () => {
    view = JSON.parse(await cli('trace', traceId, '--json'));
    return view!.calls.length > 0 && view!.spans.some((s) => s.kind === 'Server');
  });
  return { record: view!.calls[0]!, server: view!.spans.find((s) => s.kind === 'Server')! };
}

const traceparent = () => {
  const traceId = randomBytes(16).toString('hex');
  return { traceId, header: `00-${traceId}-${randomBytes(8).toString('hex')}-01` };
};

test('the installed project holds mcptrail and the SDK, and none of the collector side', () => {
  const has = (p: string) => existsSync(join(project, 'node_modules', p));
  assert.ok(has('mcptrail/dist/index.js') && has('@modelcontextprotocol/sdk'));
  for (const absent of ['chdb', '@clickhouse/client', '@grafana/grafana-foundation-sdk', 'fastify', '@modelcontextprotocol/server', '@opentelemetry/sdk-node', '@mcptrail/collector']) {
    assert.ok(!has(absent), `${absent} is not installed`);
  }
});

test('the packed types check in the project (strict, skipLibCheck off)', async () => {
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  await run(process.execPath, [tsc, '--noEmit', '--strict', '--skipLibCheck', 'false', '--target', 'es2022', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--typeRoots', join(ROOT, 'node_modules', '@types'), '--types', 'node', 'types.ts'], { cwd: project }).catch((err: { stdout?: string }) => {
    throw new Error(`tsc: ${err.stdout}`);
  });
});

test('express + the SDK transport + requireBearerAuth, one line: record and SERVER span in the collector of `mcptrail up --demo`', async () => {
  const server = spawn(process.execPath, ['server.mjs'], { cwd: project, env: projectEnv('http'), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  server.stdout!.on('data', (d) => (out += d));
  server.stderr!.on('data', (d) => (out += d));
  await until('the packed server', async () => /port: \d+/.test(out), 30_000);
  const url = `http://127.0.0.1:${/port: (\d+)/.exec(out)![1]}/mcp`;

  const tp = traceparent();
  const client = new Client({ name: 'packed-agent', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { authorization: `Bearer ${TOKEN}` } } }));
  const result = (await client.callTool({ name: 'crm.lookup', arguments: { id: 'C-1' }, _meta: { traceparent: tp.header } })) as { content: { text: string }[] };
  assert.match(result.content[0]!.text, /found C-1/);
  await client.close();
  server.kill('SIGTERM');
  const [, signal] = (await new Promise((r) => server.once('exit', (...a) => r(a)))) as [number | null, string | null];
  assert.equal(signal, 'SIGTERM', out);

  const { record, server: span } = await storedTrace(tp.traceId);
  assert.deepEqual(
    { agent: record.agent_id, tenant: record.tenant_id, tool: record.tool, outcome: record.outcome, auth: record.auth_method, service: record.service },
    { agent: 'agent-packed', tenant: 'tenant-packed', tool: 'crm.lookup', outcome: 'ok', auth: 'bearer', service: 'packed-crm' },
  );
  assert.deepEqual({ name: span.name, service: span.serviceName }, { name: 'tools/call crm.lookup', service: 'packed-crm' });
});

test('stdio, one line: record and SERVER span in the same collector', async () => {
  const transport = new StdioClientTransport({ command: process.execPath, args: ['stdio.mjs'], cwd: project, env: projectEnv('stdio'), stderr: 'pipe' });
  const client = new Client({ name: 'packed-stdio-agent', version: '1.0.0' });
  await client.connect(transport);
  const tp = traceparent();
  const result = (await client.callTool({ name: 'notes.find', arguments: { q: 'x' }, _meta: { traceparent: tp.header } })) as { content: { text: string }[] };
  assert.match(result.content[0]!.text, /none for x/);
  await client.close();

  const { record, server: span } = await storedTrace(tp.traceId);
  assert.deepEqual(
    { agent: record.agent_id, tenant: record.tenant_id, tool: record.tool, outcome: record.outcome, auth: record.auth_method },
    { agent: 'packed-stdio-agent', tenant: 'tenant-stdio', tool: 'notes.find', outcome: 'ok', auth: 'none' },
  );
  assert.deepEqual({ name: span.name, service: span.serviceName }, { name: 'tools/call notes.find', service: 'packed-notes' });
});
