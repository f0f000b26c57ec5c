/**
 * The fastify plugin mounted into an app that already has routes and hooks
 * of its own (as the collector will mount an audit MCP server at /mcp):
 * fastify-plugin metadata, the `app.mcptrail` decoration, routes only (the
 * app's hooks still run for its routes, and nothing of ours runs for them),
 * tool policies given once and compiled once for every per-request server,
 * and the records flushed when the app closes.
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import Fastify from 'fastify';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { createAuthenticator } from '../packages/mcptrail/src/auth/index.js';
import { mcptrailFastify } from '../packages/mcptrail/src/instrument/fastify.js';
import { instrumentationFor, unwrapUntrusted } from '../packages/mcptrail/src/instrument/index.js';
import type { CallRecord, RecordSink } from '../packages/mcptrail/src/record/index.js';
import { connectClient, installTracing } from './support/mcp-harness.js';

installTracing();

const KEY = 'plugin-test-key-0123456789abcdef';
const authenticator = createAuthenticator({ apiKeys: { [KEY]: { agentId: 'agent-p', tenantId: 'tenant-p', scopes: ['crm:read'] } } });

test('mounted into an existing app: its routes and hooks are untouched, policies compile once, onClose flushes the records', async () => {
  const records: CallRecord[] = [];
  let flushes = 0;
  const sink: RecordSink = { emit: (r) => void records.push(r), flush: async () => void flushes++, close: async () => {} };
  const servers: McpServer[] = [];

  const app = Fastify();
  const appHookSaw: string[] = [];
  // The app's own hook guards its own /api routes, and must not see (or be bypassed by) the MCP route's auth.
  app.addHook('onRequest', async (req, reply) => {
    appHookSaw.push(req.url);
    if (req.url.startsWith('/api') && req.headers['x-app-key'] !== 'app') return reply.code(401).send({ error: 'app auth' });
  });
  app.get('/api/things', async () => ({ things: 1 }));

  await app.register(mcptrailFastify, {
    authenticator,
    sink,
    service: 'plugin-svc',
    sdk: 'v1',
    tools: { 'crm.search': { scope: 'crm:read', version: '3' }, 'crm.admin': { scope: 'crm:admin' } },
    serverFactory: () => {
      const server = new McpServer({ name: 'plugin', version: '1.0.0' });
      server.registerTool('crm.search', { inputSchema: { q: z.string() } }, async ({ q }) => ({ content: [{ type: 'text', text: `found ${q}` }] }));
      server.registerTool('crm.admin', { inputSchema: {} }, async () => ({ content: [{ type: 'text', text: 'secret' }] }));
      servers.push(server);
      return server;
    },
  });
  assert.equal((mcptrailFastify as unknown as Record<symbol, unknown>)[Symbol.for('fastify.display-name')], 'mcptrail', 'fastify-plugin name');
  assert.equal((mcptrailFastify as unknown as Record<symbol, unknown>)[Symbol.for('skip-override')], true, 'not encapsulated: the decoration is the app\'s');
  await app.listen({ host: '127.0.0.1', port: 0 });
  const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;

  assert.equal((await fetch(`${base}/api/things`)).status, 401, "the app's hook still guards its routes");
  assert.deepEqual(await (await fetch(`${base}/api/things`, { headers: { 'x-app-key': 'app' } })).json(), { things: 1 });
  assert.equal((await fetch(`${base}/.well-known/oauth-protected-resource/mcp`)).status, 200, 'RFC 9728 metadata');

  const client = await connectClient('v1', `${base}/mcp`, { authorization: `Bearer ${KEY}` });
  const found = await client.callTool('crm.search', { q: 'ada' });
  assert.equal(unwrapUntrusted(found.content?.[0]?.text ?? ''), 'found ada');
  await client.callTool('crm.search', { q: 'grace' });
  // Out of scope at the edge: 403 before the SDK runs, recorded once.
  await assert.rejects(client.callTool('crm.admin'));
  await client.close();

  assert.deepEqual(records.map((r) => [r.tool, r.outcome, r.tool_version || '-']), [
    ['crm.search', 'ok', '3'],
    ['crm.search', 'ok', '3'],
    ['crm.admin', 'denied', '-'],
  ]);
  assert.ok(appHookSaw.includes('/mcp'), 'the app-wide hook runs for the MCP route too (the app decides what it guards)');

  // Every per-request server shares one compiled instrumentation: policies are not recompiled per request.
  const instrumented = servers.map((s) => instrumentationFor(s));
  assert.ok(instrumented.length >= 3 && instrumented.every((i) => i && i === instrumented[0]), 'one instrumentation for all servers');
  const instr = instrumented[0]!;
  assert.equal(instr.policyOf('crm.search'), instr.policyOf('crm.search'));
  assert.equal(app.mcptrail.endpoints.get('/mcp'), instr);

  const before = flushes;
  await app.mcptrail.flush();
  assert.equal(flushes, before + 1);
  await app.close();
  assert.equal(flushes, before + 2, 'onClose flushed the records');
});

test('a second endpoint at another path shares the decoration; the same path twice is refused', async () => {
  const sink: RecordSink = { emit: () => {}, flush: async () => {}, close: async () => {} };
  const factory = () => new McpServer({ name: 'p', version: '1' });
  const app = Fastify();
  await app.register(mcptrailFastify, { authenticator, sink, sdk: 'v1', serverFactory: factory });
  await app.register(mcptrailFastify, { authenticator, sink, sdk: 'v1', serverFactory: factory, path: '/audit/mcp' });
  await app.ready();
  assert.deepEqual([...app.mcptrail.endpoints.keys()], ['/mcp', '/audit/mcp']);
  await app.close();

  const again = Fastify();
  again.register(mcptrailFastify, { authenticator, sink, sdk: 'v1', serverFactory: factory });
  again.register(mcptrailFastify, { authenticator, sink, sdk: 'v1', serverFactory: factory });
  await assert.rejects(again.ready(), /already mounted at \/mcp/);
});
