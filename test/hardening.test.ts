/**
 * The smaller items of issue 10 (item 6): a JSON-RPC batch mixing an allowed
 * and a refused call; a stale spool lock naming a live process that is not
 * ours; records that name the dependency that failed when Redis is down;
 * a write that timed out after it went upstream is not run again by its retry.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { McpServer as McpServerV1 } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { createAuthenticator } from '../packages/mcptrail/src/auth/index.js';
import { instrument } from '../packages/mcptrail/src/instrument/index.js';
import { createMcpHttpApp } from '../packages/mcptrail/src/instrument/fastify.js';
import { openSpool } from '../packages/mcptrail/src/record/index.js';
import { createUpstreamClient, memoryIdempotencyStore, redisCredentialStore, redisIdempotencyStore } from '../packages/mcptrail/src/runtime/index.js';
import { buildServer, connectClient, installTracing, memorySink, POLICIES } from './support/mcp-harness.js';
import { oauthRefresh, startInstance } from './support/pipeline-server.js';
import { startPipelineUpstream } from './support/pipeline-upstream.js';
import { deadRedis } from './support/runtime-redis.js';

installTracing();

const KEY = 'hardening-key-0123456789abcdef';
const cleanups: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

describe('a JSON-RPC batch [allowed, refused] from a token lacking one scope', () => {
  test('the allowed call is served and recorded as what it was; only the refused one is denied', async () => {
    const sink = memorySink();
    const app = await createMcpHttpApp({
      sdk: 'v1',
      service: 'svc-batch',
      sink,
      tools: POLICIES,
      authenticator: createAuthenticator({ apiKeys: { [KEY]: { agentId: 'agent-b', tenantId: 'tenant-b', scopes: ['crm:read'] } } }),
      serverFactory: () => buildServer('v1', sink),
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    cleanups.push(() => app.close());
    const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/mcp`;
    const res = await fetch(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-03-26' },
      body: JSON.stringify([
        { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { text: 'hello' } } },
        { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'secure', arguments: {} } },
      ]),
    });
    assert.equal(res.status, 200, 'the batch is served, not refused as a whole');
    const answers = (await res.json()) as { id: number; result?: { isError?: boolean; content: { text: string }[]; structuredContent?: Record<string, unknown> } }[];
    const byId = new Map(answers.map((a) => [a.id, a]));
    assert.equal(byId.get(1)?.result?.isError, undefined);
    assert.match(byId.get(1)!.result!.content[0]!.text, /hello/);
    assert.equal(byId.get(2)?.result?.isError, true);
    assert.equal(byId.get(2)?.result?.structuredContent?.missing_scope, 'crm:admin');

    const outcomes = Object.fromEntries(sink.records.map((r) => [r.tool, r.outcome]));
    assert.deepEqual(outcomes, { echo: 'ok', secure: 'denied' });
    assert.equal(sink.records.length, 2);
  });
});

describe('the spool lock', () => {
  /** A fresh directory and a live process that is not ours. */
  async function dirAndOtherProcess(): Promise<{ dir: string; pid: number }> {
    const dir = await mkdtemp(join(tmpdir(), 'mcptrail-lock-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const other = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    cleanups.push(async () => other.kill('SIGKILL'));
    await new Promise((r) => other.once('spawn', r));
    return { dir, pid: other.pid! };
  }

  test('a stale lock naming a live process that is not ours (PID reuse) does not block startup', async () => {
    const { dir, pid } = await dirAndOtherProcess();
    // The lock was written (an hour ago) before that process started: its pid was reused.
    await writeFile(join(dir, 'lock'), String(pid));
    const past = new Date(Date.now() - 3_600_000);
    await utimes(join(dir, 'lock'), past, past);
    const spool = openSpool({ dir });
    spool.push('{"a":1}');
    await spool.close();
  });

  test('a lock held by a live process that wrote it still refuses a second opener', async () => {
    const { dir, pid } = await dirAndOtherProcess();
    // Written after the process started, as its owner would.
    await writeFile(join(dir, 'lock'), String(pid));
    assert.throws(() => openSpool({ dir }), /in use by process/);
  });
});

describe('Redis down', () => {
  test('records say which dependency failed (error_class / error_code), not Error / ""', async () => {
    const upstream = await startPipelineUpstream({ canary: 'unused' });
    cleanups.push(() => upstream.close());
    const dead = deadRedis();
    cleanups.push(async () => dead.disconnect());
    const instance = await startInstance({
      line: 'v1',
      authenticator: createAuthenticator({ apiKeys: { [KEY]: { agentId: 'agent-r', tenantId: 'tenant-r', scopes: ['contacts:read', 'writes:write'] } } }),
      upstreamUrl: upstream.url,
      credentials: redisCredentialStore(dead, { key: randomBytes(32), refresh: oauthRefresh({ tokenUrl: `${upstream.url}/oauth/token` }) }),
      idempotency: redisIdempotencyStore(dead),
    });
    cleanups.push(() => instance.close());
    const c = await connectClient('v1', instance.url, { authorization: `Bearer ${KEY}` });
    cleanups.push(() => c.close());
    const write = await c.callTool('writes.create', { title: 'x' });
    const read = await c.callTool('contacts.search', {});
    assert.equal(write.isError, true);
    assert.equal(read.isError, true);
    const [w, r] = instance.sink.records;
    assert.equal(w!.outcome, 'system_error');
    assert.equal(w!.error_class, 'StoreUnavailableError');
    assert.equal(w!.error_code, 'idempotency_store_unavailable');
    assert.equal(r!.outcome, 'system_error');
    assert.equal(r!.error_class, 'StoreUnavailableError');
    assert.equal(r!.error_code, 'credential_store_unavailable');
    assert.equal(r!.auth_refresh_failed, 0, 'a store outage is not an auth-refresh failure');
    assert.match(write.content![0]!.text!, /idempotency store is unavailable/);
  });
});

describe('a write that times out after it went upstream', () => {
  test('its retry is answered interrupted (the effect may have happened), not run a second time', async () => {
    let effects = 0;
    const slow = http.createServer(async (req, res) => {
      for await (const _ of req);
      effects++;
      await new Promise((r) => setTimeout(r, 600));
      res.writeHead(201, { 'content-type': 'application/json' }).end('{"refund":{"id":"R-1"}}');
    });
    await new Promise<void>((r) => slow.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise((r) => (slow.closeAllConnections(), slow.close(r))));
    const payments = createUpstreamClient({ name: 'payments', baseUrl: `http://127.0.0.1:${(slow.address() as AddressInfo).port}`, retry: false });
    const sink = memorySink();
    const tools = { refund: { scope: 'crm:read', kind: 'write' as const, budgetMs: 300 } };
    const idempotency = memoryIdempotencyStore();
    const app = await createMcpHttpApp({
      sdk: 'v1',
      service: 'svc-timeout',
      sink,
      tools,
      authenticator: createAuthenticator({ apiKeys: { [KEY]: { agentId: 'agent-t', tenantId: 'tenant-t', scopes: ['crm:read'] } } }),
      serverFactory: () => {
        const server = new McpServerV1({ name: 't', version: '1' });
        server.registerTool('refund', { inputSchema: { amount: z.number() } }, async ({ amount }) => {
          const res = await payments.request({ method: 'POST', path: '/refunds', body: { amount } });
          return { content: [{ type: 'text' as const, text: JSON.stringify(res.body) }] };
        });
        return instrument(server, { service: 'svc-timeout', sink, tools, idempotency });
      },
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    cleanups.push(() => app.close());
    const c = await connectClient('v1', `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/mcp`, { authorization: `Bearer ${KEY}` });
    cleanups.push(() => c.close());
    const meta = { 'io.mcptrail/idempotency-key': 'refund-order-77' };
    const first = (await c.callTool('refund', { amount: 3 }, meta)) as { isError?: boolean; structuredContent?: Record<string, unknown> };
    assert.equal(first.isError, true);
    const retry = (await c.callTool('refund', { amount: 3 }, meta)) as { isError?: boolean; structuredContent?: Record<string, unknown>; content?: { text: string }[] };
    assert.equal(retry.structuredContent?.interrupted, true);
    assert.equal(retry.structuredContent?.retryable, false);
    assert.match(retry.content![0]!.text, /may or may not have happened/);
    assert.equal(effects, 1, 'one refund upstream');
    const [r1, r2] = sink.records;
    assert.equal(r2!.outcome, 'interrupted');
    assert.equal(r2!.idempotent_replay, true);
    assert.equal(retry.structuredContent?.earlier_call_id, r1!.call_id);
  });
});
