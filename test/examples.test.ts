/**
 * The README's library examples (examples/*.ts, included verbatim in the
 * README) run as a user runs them: each in its own process with only
 * environment variables for configuration, called by the official client
 * with a real JWT from a JWKS endpoint, stopped with SIGTERM (or, for stdio,
 * by the client leaving). Each call's record (agent, tenant, tool, outcome)
 * and SERVER span must then be in a real collector's store: one line of
 * instrument() in four hosts — SDK v1 on express, SDK v2 createMcpHandler,
 * stdio, and the fastify plugin. And the audit MCP client example, asking a
 * collector's /mcp with a tenant read token.
 */
import assert from 'node:assert/strict';
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { Client as ClientV2, StreamableHTTPClientTransport as TransportV2 } from '@modelcontextprotocol/client';
import { TABLES } from '../packages/collector/src/store/index.js';
import { newSigningKey, sign, startJwksServer, type JwksServer } from './support/auth-keys.js';
import { callRecord, ndjson, postRecords, startTestCollector, type TestCollector } from './support/reliability-collector.js';

const ROOT = join(import.meta.dirname, '..');
const EXAMPLES = join(ROOT, 'examples');
const NODE_ARGS = ['--unhandled-rejections=strict', '--conditions=mcptrail-source', '--import', 'tsx'];
const ISSUER = 'https://idp.example.test';
const AUDIENCE = 'https://mcp.example.test/mcp';
const MAX_LINES = 20;
const AUDIT_CLIENT = 'audit-mcp-client.ts';
const INTENT_EXAMPLE = 'intent.ts';

let collector: TestCollector;
let jwks: JwksServer;
let token: string;
let scratch: string;

before(async () => {
  collector = await startTestCollector();
  const key = await newSigningKey('ES256', 'examples-key');
  jwks = await startJwksServer([key]);
  token = await sign(key.privateKey, 'ES256', { client_id: 'agent-x', tenant_id: 'acme', scope: 'contacts:read' }, { issuer: ISSUER, audience: AUDIENCE, kid: key.kid });
  scratch = mkdtempSync(join(tmpdir(), 'mcptrail-examples-'));
});
after(async () => {
  await jwks.close();
  await collector.close();
  rmSync(scratch, { recursive: true, force: true });
});

function env(name: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    PORT: '0',
    JWKS_URL: jwks.url,
    JWT_ISSUER: ISSUER,
    MCP_AUDIENCE: AUDIENCE,
    MCPTRAIL_COLLECTOR_URL: collector.base,
    MCPTRAIL_SPOOL_DIR: join(scratch, name),
  };
}

function traceparent() {
  const traceId = randomBytes(16).toString('hex');
  return { traceId, header: `00-${traceId}-${randomBytes(8).toString('hex')}-01` };
}

async function start(file: string): Promise<{ child: ChildProcess; url: string; stderr: () => string }> {
  const child = spawn(process.execPath, [...NODE_ARGS, join(EXAMPLES, file)], { cwd: ROOT, env: env(file), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /port: (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`${file} exited (${code}) before listening:\n${out}\n${err}`)));
  });
  return { child, url: `http://127.0.0.1:${port}/mcp`, stderr: () => err };
}

function stopped(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

interface Stored {
  record: { tool: string; agent_id: string; tenant_id: string; auth_method: string; outcome: string; service: string };
  span: { SpanName: string; SpanKind: string; ServiceName: string };
}

/** The record and SERVER span of a trace, once both are stored (the processes ship them as they stop). */
async function storedCall(traceId: string, timeoutMs = 20_000): Promise<Stored> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const [record] = await collector.store.query<Stored['record']>(
      `SELECT tool, agent_id, tenant_id, auth_method, outcome, service FROM ${TABLES.toolCalls} WHERE trace_id = {t:String}`,
      { t: traceId },
    );
    const [span] = await collector.store.query<Stored['span']>(
      `SELECT SpanName, SpanKind, ServiceName FROM ${TABLES.otelTraces} WHERE TraceId = {t:String} AND SpanKind = 'Server'`,
      { t: traceId },
    );
    if (record && span) return { record, span };
    if (Date.now() > end) throw new Error(`no record and span for trace ${traceId} (record: ${!!record}, span: ${!!span})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const HTTP_EXAMPLES = [
  { file: 'express-v1.ts', client: 'v1', auth: 'bearer' },
  { file: 'create-mcp-handler-v2.ts', client: 'v2', auth: 'bearer' },
  { file: 'fastify-plugin.ts', client: 'v1', auth: 'jwt' },
] as const;

describe('README library examples', () => {
  test('each example is at most 20 lines and appears verbatim in the README', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    for (const file of [...HTTP_EXAMPLES.map((e) => e.file), 'stdio.ts', AUDIT_CLIENT, INTENT_EXAMPLE]) {
      const source = readFileSync(join(EXAMPLES, file), 'utf8').trimEnd();
      assert.ok(source.split('\n').length <= MAX_LINES, `${file}: ${source.split('\n').length} lines`);
      assert.ok(readme.includes(`\`\`\`ts\n${source}\n\`\`\``), `README.md includes examples/${file} as a \`\`\`ts block`);
    }
  });

  test('the examples type-check against the public types (no SDK class types, skipLibCheck off)', async () => {
    await promisify(execFile)(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(EXAMPLES, 'tsconfig.json')], { cwd: ROOT });
  });

  for (const example of HTTP_EXAMPLES) {
    test(`${example.file}: one call leaves its record and SERVER span in the collector; SIGTERM flushes and exits`, async () => {
      const { child, url, stderr } = await start(example.file);
      const tp = traceparent();
      const headers = { authorization: `Bearer ${token}` };
      const client = example.client === 'v1' ? new ClientV1({ name: 'examples-test', version: '1.0.0' }) : new ClientV2({ name: 'examples-test', version: '1.0.0' });
      await client.connect(example.client === 'v1' ? new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } }) : (new TransportV2(new URL(url), { requestInit: { headers } }) as never));
      const result = (await client.callTool({ name: 'crm.search_contacts', arguments: { query: 'ada' }, _meta: { traceparent: tp.header } })) as { content: { text: string }[] };
      assert.match(result.content[0]!.text, /no contact matches ada/);
      await client.close();

      child.kill('SIGTERM');
      const exit = await stopped(child);
      assert.equal(exit.signal, 'SIGTERM', `exits on SIGTERM as without mcptrail (code ${exit.code}):\n${stderr()}`);
      const { record, span } = await storedCall(tp.traceId);
      assert.deepEqual(record, { tool: 'crm.search_contacts', agent_id: 'agent-x', tenant_id: 'acme', auth_method: example.auth, outcome: 'ok', service: 'crm-mcp' });
      assert.deepEqual(span, { SpanName: 'tools/call crm.search_contacts', SpanKind: 'Server', ServiceName: 'crm-mcp' });
      if (example.file !== 'fastify-plugin.ts') assert.match(stderr(), /"msg":"tool_call"/, 'the record line goes to stderr');
    });
  }

  test('stdio.ts: auth_method none, the configured tenant, the client as agent; flushed when the client leaves', async () => {
    const transport = new StdioClientTransport({ command: process.execPath, args: [...NODE_ARGS, join(EXAMPLES, 'stdio.ts')], cwd: ROOT, env: env('stdio') as Record<string, string>, stderr: 'pipe' });
    const client = new ClientV1({ name: 'examples-stdio-client', version: '1.0.0' });
    await client.connect(transport);
    const tp = traceparent();
    const result = (await client.callTool({ name: 'notes.search', arguments: { query: 'q3' }, _meta: { traceparent: tp.header } })) as { content: { text: string }[] };
    assert.match(result.content[0]!.text, /no note matches q3/);
    await client.close();
    const { record, span } = await storedCall(tp.traceId);
    assert.deepEqual(record, { tool: 'notes.search', agent_id: 'examples-stdio-client', tenant_id: 'acme', auth_method: 'none', outcome: 'ok', service: 'notes-mcp' });
    assert.deepEqual(span, { SpanName: 'tools/call notes.search', SpanKind: 'Server', ServiceName: 'notes-mcp' });
  });
});

describe('README intent example', () => {
  test('intent.ts: the refund lists `intent` (required), refuses a call without it, records the one it was given', async () => {
    const key = await newSigningKey('ES256', 'intent-key');
    const keys = await startJwksServer([key]);
    const refunder = await sign(key.privateKey, 'ES256', { client_id: 'agent-r', tenant_id: 'intent-example', scope: 'refunds:write' }, { issuer: ISSUER, audience: AUDIENCE, kid: key.kid });
    const child = spawn(process.execPath, [...NODE_ARGS, join(EXAMPLES, INTENT_EXAMPLE)], { cwd: ROOT, env: { ...env(INTENT_EXAMPLE), JWKS_URL: keys.url }, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const port = await new Promise<number>((resolve, reject) => {
        let out = '';
        child.stdout!.on('data', (d) => {
          out += d;
          const m = /port: (\d+)/.exec(out);
          if (m) resolve(Number(m[1]));
        });
        child.once('exit', (code) => reject(new Error(`${INTENT_EXAMPLE} exited (${code}) before listening:\n${out}`)));
      });
      const client = new ClientV1({ name: 'examples-test', version: '1.0.0' });
      await client.connect(new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${port}/mcp`), { requestInit: { headers: { authorization: `Bearer ${refunder}` } } }));
      const [tool] = (await client.listTools()).tools;
      assert.deepEqual([tool!.name, tool!.inputSchema.required], ['crm.issue_refund', ['deal_id', 'amount', 'intent']]);
      const refused = (await client.callTool({ name: 'crm.issue_refund', arguments: { deal_id: 'D-1', amount: 5 } })) as { isError?: boolean; content: { text: string }[] };
      assert.equal(refused.isError, true);
      assert.match(refused.content[0]!.text, /state why you are calling this tool in `intent`/);
      const tp = traceparent();
      const done = (await client.callTool({ name: 'crm.issue_refund', arguments: { deal_id: 'D-1', amount: 5, intent: 'Refund the duplicate charge.' }, _meta: { traceparent: tp.header } })) as { content: { text: string }[] };
      assert.match(done.content[0]!.text, /refunded 5 on D-1/);
      await client.close();
      child.kill('SIGTERM');
      await stopped(child);
      await storedCall(tp.traceId);
      const rows = await collector.store.query<{ outcome: string; error_code: string; intent: string }>(
        `SELECT outcome, error_code, intent FROM ${TABLES.toolCalls} WHERE agent_id = 'agent-r' ORDER BY ts`,
      );
      assert.deepEqual(rows, [
        { outcome: 'tool_error', error_code: 'intent_required', intent: '' },
        { outcome: 'ok', error_code: '', intent: 'Refund the duplicate charge.' },
      ]);
    } finally {
      child.kill('SIGTERM');
      await keys.close();
    }
  });
});

describe('README audit MCP example', () => {
  test(`${AUDIT_CLIENT}: a tenant read token finds the last refund of its tenant and who issued it`, async () => {
    const acmeToken = `acme-read-${randomBytes(12).toString('hex')}`;
    // A second collector on the same store (one data directory per process), with read tokens.
    const reads = await startTestCollector({ store: collector.store, readTokens: { [acmeToken]: { tenant: 'acme' } } });
    try {
      const older = new Date(Date.now() - 30_000).toISOString();
      const refunds = [
        callRecord({ tenant_id: 'acme', agent_id: 'acme-billing-bot', tool: 'crm.issue_refund', scope_required: 'refunds:write', ts: older }),
        // Newer, and another tenant's: the token must not see it.
        callRecord({ tenant_id: 'globex', agent_id: 'globex-refunder', tool: 'crm.issue_refund' }),
      ];
      assert.equal((await postRecords(reads.base, ndjson(refunds))).status, 200);
      const { stdout } = await promisify(execFile)(process.execPath, [...NODE_ARGS, join(EXAMPLES, AUDIT_CLIENT)], {
        cwd: ROOT,
        env: { ...process.env, MCPTRAIL_COLLECTOR_URL: reads.base, MCPTRAIL_READ_TOKEN: acmeToken },
      });
      assert.match(stdout, /^the last refund was issued by acme-billing-bot:\nwho: agent acme-billing-bot of tenant acme/);
      assert.match(stdout, /scopes: needed refunds:write/);
      assert.ok(!stdout.includes('globex'), stdout);
    } finally {
      await reads.collector.close();
    }
  });
});
