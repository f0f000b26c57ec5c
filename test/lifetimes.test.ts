/**
 * The call pipeline's lifetime bugs (issue 11 item 4), each reproduced as it
 * was seen, over real HTTP with the official clients of both SDK lines:
 *  - the per-tenant concurrency cap was released at the deadline while the
 *    handler kept running (cap 1: a second call of the tenant ran beside it);
 *  - the handler got no signal at the deadline (it kept working for nobody);
 *  - upstream response bodies were read with no size limit;
 *  - a record the sink could not take was dropped without a trace.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { McpServer as McpServerV1 } from '@modelcontextprotocol/sdk/server/mcp.js';
import { McpServer as McpServerV2 } from '@modelcontextprotocol/server';
import { z } from 'zod';
import { createAuthenticator } from '../packages/mcptrail/src/auth/index.js';
import { currentCall } from '../packages/mcptrail/src/context/index.js';
import { createMcpHttpApp } from '../packages/mcptrail/src/instrument/fastify.js';
import { instrument, unwrapUntrusted, type McpServerLike } from '../packages/mcptrail/src/instrument/index.js';
import { createLogger } from '../packages/mcptrail/src/record/index.js';
import { createUpstreamClient, MemoryConcurrencyCap, UpstreamResponseTooLargeError } from '../packages/mcptrail/src/runtime/index.js';
import { connectClient, installTracing, memorySink, type SdkLine } from './support/mcp-harness.js';

installTracing();

const KEY = 'lifetimes-test-key-0123456789';
const authenticator = createAuthenticator({ apiKeys: { [KEY]: { agentId: 'agent-1', tenantId: 'tenant-a', scopes: ['t:read'] } } });
const headers = { authorization: `Bearer ${KEY}` };

function deferred<T = void>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

const text = (s: string) => ({ content: [{ type: 'text' as const, text: s }] });

function register(line: SdkLine, server: McpServerLike, name: string, cb: (extra: any) => unknown) {
  if (line === 'v1') (server as McpServerV1).registerTool(name, { inputSchema: {} }, ((_args: unknown, extra: unknown) => cb(extra)) as never);
  else (server as McpServerV2).registerTool(name, { inputSchema: z.object({}) }, ((_args: unknown, extra: unknown) => cb(extra)) as never);
}

for (const line of ['v1', 'v2'] as SdkLine[]) {
  describe(`SDK ${line}: a call outliving its deadline`, () => {
    const sink = memorySink();
    const cap = new MemoryConcurrencyCap(1);
    /** Opened by the test: the stuck handler finishes only then, whatever its signal says. */
    let gate = deferred();
    let handlerSettled = deferred();
    const aborts: { reason: unknown; sameAsCallSignal: boolean }[] = [];
    const abortSeen = deferred();
    let app: Awaited<ReturnType<typeof createMcpHttpApp>>;
    let url: string;

    before(async () => {
      app = await createMcpHttpApp({
        sdk: line,
        authenticator,
        sink,
        service: `lifetimes-${line}`,
        tools: { stuck: { budgetMs: 150 }, listens: { budgetMs: 150 } },
        concurrency: cap,
        serverFactory: () => {
          const server = line === 'v1' ? new McpServerV1({ name: 't', version: '1' }) : new McpServerV2({ name: 't', version: '1' });
          register(line, server, 'stuck', async () => {
            await gate.promise;
            handlerSettled.resolve();
            return text('too late');
          });
          register(line, server, 'listens', (extra) => {
            const signal: AbortSignal = line === 'v1' ? extra.signal : extra.mcpReq.signal;
            const call = currentCall();
            return new Promise((resolve) => {
              signal.addEventListener('abort', () => {
                aborts.push({ reason: signal.reason, sameAsCallSignal: call?.signal === signal });
                abortSeen.resolve();
                resolve(text('stopped'));
              });
            });
          });
          return server;
        },
      });
      await app.listen({ host: '127.0.0.1', port: 0 });
      url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/mcp`;
    });
    after(() => app.close());

    test('the concurrency slot is held until the handler settles, not released at the deadline', async () => {
      const client = await connectClient(line, url, headers);
      try {
        const first = await client.callTool('stuck');
        assert.match(unwrapUntrusted(first.content?.[0]?.text ?? ''), /deadline/i, 'the agent is answered at the deadline');
        // The first handler still runs: the tenant's only slot is its.
        const second = await client.callTool('stuck');
        assert.match(second.content?.[0]?.text ?? '', /concurrent-call limit/);
        assert.equal(cap.inFlightFor('tenant-a'), 1);

        gate.resolve();
        await handlerSettled.promise;
        // The slot is freed by the settling promise's reaction, queued after the one just awaited.
        await new Promise((r) => setImmediate(r));
        assert.equal(cap.inFlightFor('tenant-a'), 0);
        gate = deferred();
        handlerSettled = deferred();
        const third = await client.callTool('stuck');
        assert.match(unwrapUntrusted(third.content?.[0]?.text ?? ''), /deadline/i, 'with the slot back, the next call runs');
        gate.resolve();
        await handlerSettled.promise;

        const outcomes = sink.records.filter((r) => r.tool === 'stuck').map((r) => r.outcome);
        assert.deepEqual(outcomes, ['deadline_exceeded', 'rate_limited', 'deadline_exceeded']);
        assert.equal(sink.records.find((r) => r.outcome === 'rate_limited')?.rate_limit_budget, 'concurrency');
      } finally {
        await client.close();
      }
    });

    test("the handler's signal fires at the deadline, with the deadline as its reason", { timeout: 10_000 }, async () => {
      const client = await connectClient(line, url, headers);
      try {
        const answer = client.callTool('listens');
        await abortSeen.promise;
        assert.equal(aborts.length, 1);
        const reason = aborts[0]!.reason as { name?: string; budgetExhausted?: boolean };
        assert.equal(reason?.name, 'CallDeadlineError');
        assert.equal(reason?.budgetExhausted, true);
        assert.equal(aborts[0]!.sameAsCallSignal, true, 'currentCall().signal is the same signal (the upstream client reads it)');
        assert.match(unwrapUntrusted((await answer).content?.[0]?.text ?? ''), /deadline/i);
        assert.equal(sink.records.filter((r) => r.tool === 'listens').at(-1)?.outcome, 'deadline_exceeded');
      } finally {
        await client.close();
      }
    });
  });
}

describe('upstream response bodies are capped', () => {
  let server: http.Server;
  let base: string;
  before(async () => {
    server = http.createServer((req, res) => {
      if (req.url === '/declared') {
        // Says how big it is: refused before a byte is read.
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(3 * 1024 * 1024) });
        res.end(Buffer.alloc(3 * 1024 * 1024, 0x20));
        return;
      }
      if (req.url === '/chunked') {
        // No length: read until the cap, then cut off.
        res.writeHead(200, { 'content-type': 'text/plain' });
        const chunk = Buffer.alloc(64 * 1024, 0x61);
        let sent = 0;
        const pump = () => {
          while (sent < 40 * 1024 * 1024 && !res.destroyed) {
            sent += chunk.length;
            if (!res.write(chunk)) return void res.once('drain', pump);
          }
          res.end();
        };
        res.on('close', () => (sent = Infinity));
        pump();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"small":true}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))));

  test('a body over maxResponseBytes fails with a clear error, declared or streamed; smaller ones are read', async () => {
    const client = createUpstreamClient({ name: 'crm', baseUrl: base, maxResponseBytes: 1024 * 1024, retry: false });
    assert.deepEqual((await client.request({ method: 'GET', path: '/small' })).body, { small: true });
    for (const path of ['/declared', '/chunked']) {
      await assert.rejects(client.request({ method: 'GET', path }), (err: unknown) => {
        assert.ok(err instanceof UpstreamResponseTooLargeError, `${path}: ${String(err)}`);
        assert.equal(err.code, 'upstream_response_too_large');
        assert.match(err.message, /more than 1048576 bytes/);
        return true;
      });
    }
    // A request may raise its own bound.
    await assert.rejects(client.request({ method: 'GET', path: '/declared', maxResponseBytes: 512 * 1024 }), UpstreamResponseTooLargeError);
    const roomy = await client.request<string>({ method: 'GET', path: '/declared', maxResponseBytes: 4 * 1024 * 1024 });
    assert.equal(roomy.status, 200);
  });

  test('the default bound is 10 MiB', async () => {
    const client = createUpstreamClient({ name: 'crm', baseUrl: base, retry: false });
    await assert.rejects(client.request({ method: 'GET', path: '/chunked' }), (err: unknown) => err instanceof UpstreamResponseTooLargeError && /10485760/.test(err.message));
  });
});

test('a record the sink cannot take is logged (class, code) instead of vanishing; the agent still gets its answer', async () => {
  let log = '';
  const logger = createLogger({ destination: new Writable({ write: (c, _e, cb) => ((log += c.toString()), cb()) }) as never });
  const failing = { emit: () => { throw Object.assign(new RangeError('sink is full of canary-xyz'), { code: 'ESINKFULL' }); }, flush: async () => {}, close: async () => {} };
  const server = instrument(new McpServerV1({ name: 't', version: '1' }), { service: 'svc', sink: failing, logger });
  server.registerTool('ok', { inputSchema: {} }, async () => text('fine'));
  const { Client } = await import('@modelcontextprotocol/sdk/client/index.js');
  const { InMemoryTransport } = await import('@modelcontextprotocol/sdk/inMemory.js');
  const [a, b] = InMemoryTransport.createLinkedPair();
  const client = new Client({ name: 'c', version: '1' });
  await server.connect(b);
  await client.connect(a);
  const res = (await client.callTool({ name: 'ok', arguments: {} })) as { content: { text: string }[] };
  assert.equal(unwrapUntrusted(res.content[0]!.text), 'fine');
  const line = log.split('\n').find((l) => l.includes('audit_record_failed'));
  assert.ok(line, `expected an audit_record_failed line, got: ${log}`);
  assert.equal(JSON.parse(line).error_class, 'RangeError');
  assert.equal(JSON.parse(line).error_code, 'ESINKFULL');
  assert.doesNotMatch(log, /canary-xyz/, 'never the message');
  await client.close();
});

test('the call signal, made on first read: fires at the deadline, starts aborted when read after it, follows the SDK cancel', async () => {
  const { CallAbort } = await import('../packages/mcptrail/src/instrument/call-abort.js');
  const deadline = new Error('deadline');
  const early = new CallAbort(undefined);
  const seen = early.signal;
  early.abort(deadline);
  assert.equal(seen.aborted, true);
  assert.equal(seen.reason, deadline);

  const late = new CallAbort(undefined);
  late.abort(deadline);
  assert.equal(late.signal.aborted, true, 'read after the deadline: already aborted');
  assert.equal(late.signal.reason, deadline);

  const sdk = new AbortController();
  const cancelled = new CallAbort(sdk.signal);
  const s = cancelled.signal;
  sdk.abort(new Error('client cancelled'));
  assert.equal(s.aborted, true);
  assert.equal((s.reason as Error).message, 'client cancelled');
  cancelled.abort(deadline);
  assert.equal((s.reason as Error).message, 'client cancelled', 'the first reason stays');

  const sdk2 = new AbortController();
  sdk2.abort(new Error('gone before'));
  assert.equal(new CallAbort(sdk2.signal).signal.aborted, true, 'an SDK signal already aborted');
});
