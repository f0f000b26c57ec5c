/**
 * instrument()'s declarative limits and stores (`limits` as a config,
 * `concurrency` as a number, `idempotency: true`): on the real Redis when
 * MCPTRAIL_REDIS_URL is set, so two server instances share one budget, one
 * cap and one key space; per process without it.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, test } from 'node:test';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { z } from 'zod';
import { createInstrumentation, instrument, shutdown, unwrapUntrusted } from '../packages/mcptrail/src/instrument/index.js';
import { memorySink } from './support/mcp-harness.js';

const REDIS_URL = process.env.MCPTRAIL_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
after(() => shutdown());

async function instance(instr: ReturnType<typeof createInstrumentation>, onWrite: () => void, tenant = 'tenant-s') {
  const server = new McpServer({ name: 'shared', version: '1' });
  instrument(server, instr);
  server.registerTool('read', { inputSchema: {} }, async () => ({ content: [{ type: 'text' as const, text: 'ok' }] }));
  server.registerTool('write', { inputSchema: { n: z.number() } }, async () => {
    onWrite();
    return { content: [{ type: 'text' as const, text: 'written' }] };
  });
  const [a, b] = InMemoryTransport.createLinkedPair();
  const send = a.send.bind(a);
  a.send = (m, o) => send(m, { ...o, authInfo: { token: 't', clientId: 'agent-1', scopes: [], expiresAt: 2e9, extra: { tenant_id: tenant } } });
  const client = new Client({ name: 'c', version: '1' });
  await server.connect(b);
  await client.connect(a);
  return client;
}

test('with MCPTRAIL_REDIS_URL two instances share the tenant budget and the idempotency keys', async () => {
  const service = `shared-${randomUUID().slice(0, 8)}`; // key prefix of its own on the shared Redis
  const options = {
    service,
    sink: memorySink(),
    redisUrl: REDIS_URL,
    limits: { tenant: { points: 3, perSeconds: 60 } },
    idempotency: true,
    tools: { write: { kind: 'write' as const } },
  };
  let writes = 0;
  // Two instances: two compiled instrumentations over the same options, as two processes would have.
  const oneInstr = createInstrumentation(options);
  const one = await instance(oneInstr, () => writes++);
  const two = await instance(createInstrumentation(options), () => writes++);
  // Until Redis first answers, budgets are per instance (the insurance limiter): let it connect first.
  const warm = await instance(oneInstr, () => {}, 'tenant-warmup');
  await warm.callTool({ name: 'write', arguments: { n: 0 } });
  await warm.close();
  writes = 0;
  options.sink.records.length = 0;
  const first = await one.callTool({ name: 'write', arguments: { n: 1 } });
  const replay = await two.callTool({ name: 'write', arguments: { n: 1 } });
  assert.equal(writes, 1, `the second instance replays the first one's result: ${JSON.stringify(options.sink.records.map((r) => [r.outcome, r.error_class, r.error_code]))}`);
  const text = (r: unknown) => unwrapUntrusted((r as { content: { text: string }[] }).content[0]!.text);
  assert.equal(text(replay), text(first), 'the same result (each answer gets its own untrusted-data boundary)');
  await one.callTool({ name: 'read', arguments: {} });
  // Three calls took the tenant's three points across both instances.
  const refused = (await two.callTool({ name: 'read', arguments: {} })) as { isError?: boolean };
  assert.equal(refused.isError, true, JSON.stringify(options.sink.records.map((r) => [r.tool, r.outcome, r.error_class, r.rate_limit_budget])));
  const records = options.sink.records.map((r) => [r.tool, r.outcome, r.idempotent_replay, r.rate_limit_budget]);
  assert.deepEqual(records, [['write', 'ok', false, ''], ['write', 'ok', true, ''], ['read', 'ok', false, ''], ['read', 'rate_limited', false, 'tenant']]);
  await one.close();
  await two.close();
});

test('without a Redis URL the same options are per process (each instance its own budget)', async () => {
  const saved = process.env.MCPTRAIL_REDIS_URL;
  delete process.env.MCPTRAIL_REDIS_URL;
  try {
    const options = { service: 'local', sink: memorySink(), limits: { tenant: { points: 1, perSeconds: 60 } }, concurrency: 2 };
    const one = await instance(createInstrumentation(options), () => {});
    const two = await instance(createInstrumentation(options), () => {});
    await one.callTool({ name: 'read', arguments: {} });
    await two.callTool({ name: 'read', arguments: {} });
    assert.deepEqual(options.sink.records.map((r) => r.outcome), ['ok', 'ok']);
    await one.close();
    await two.close();
  } finally {
    if (saved !== undefined) process.env.MCPTRAIL_REDIS_URL = saved;
  }
});
