/**
 * Calls the SDK refuses before the wrapped handler runs (arguments failing the
 * input schema, an unknown tool) still leave exactly one record, on both SDK
 * lines, through the official clients over real HTTP.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { after, before, beforeEach, describe, test } from 'node:test';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { McpServer as McpServerV1 } from '@modelcontextprotocol/sdk/server/mcp.js';
import { createAuthenticator } from '../packages/mcptrail/src/auth/index.js';
import { instrument } from '../packages/mcptrail/src/instrument/index.js';
import { createMcpHttpApp } from '../packages/mcptrail/src/instrument/fastify.js';
import { createLogger } from '../packages/mcptrail/src/record/index.js';
import { AUDIENCE, ISSUER, mintHs256, standardClaims } from './support/auth-keys.js';
import {
  buildServer,
  connectClient,
  installTracing,
  memorySink,
  newTraceparent,
  type McpTestClient,
  type SdkLine,
} from './support/mcp-harness.js';

const SECRET = 'sdk-rejections-secret-0123456789abcdef';
const CANARY = 'CANARY-7f3a9c-do-not-record';
const exporter = installTracing();
const authenticator = createAuthenticator({ jwt: { secret: SECRET, issuer: ISSUER, audience: AUDIENCE } });

function serverSpans(tool: string) {
  return exporter.getFinishedSpans().filter((s) => s.name === `tools/call ${tool}` && s.kind === SpanKind.SERVER);
}

for (const line of ['v1', 'v2'] as SdkLine[]) {
  describe(`SDK ${line}: tools/call refused by the SDK`, () => {
    const sink = memorySink();
    const logLines: string[] = [];
    const logger = createLogger({
      level: 'trace',
      destination: new Writable({
        write(chunk, _enc, done) {
          logLines.push(String(chunk));
          done();
        },
      }),
    });
    let app: Awaited<ReturnType<typeof createMcpHttpApp>>;
    let url: string;
    let token: string;
    const clients: McpTestClient[] = [];
    const client = async () => {
      const c = await connectClient(line, url, { authorization: `Bearer ${token}` });
      clients.push(c);
      return c;
    };

    before(async () => {
      app = await createMcpHttpApp({
        serverFactory: () => buildServer(line, sink),
        authenticator,
        sink,
        service: `svc-${line}`,
        sdk: line,
        logger,
      });
      await app.listen({ host: '127.0.0.1', port: 0 });
      url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/mcp`;
      token = await mintHs256(SECRET, standardClaims({ scope: 'crm:read' }));
    });
    after(async () => {
      for (const c of clients) await c.close().catch(() => {});
      await app.close();
    });
    beforeEach(() => {
      exporter.reset();
      sink.records.length = 0;
      logLines.length = 0;
    });

    const assertIdentity = (r: (typeof sink.records)[number]) => {
      assert.equal(r.service, `svc-${line}`);
      assert.equal(r.tenant_id, 'tenant-a');
      assert.equal(r.agent_id, 'agent-1');
      assert.equal(r.subject, 'user-1');
      assert.equal(r.auth_method, 'jwt');
      assert.deepEqual(r.scopes_granted, ['crm:read']);
    };

    test('invalid arguments: one tool_error record (InvalidParams, -32602), caller-fault span, no canary anywhere', async () => {
      const tp = newTraceparent();
      const c = await client();
      const res = await c.callTool('echo', { text: { q: CANARY }, note: CANARY }, { traceparent: tp.header });
      // The agent's answer is the SDK's, unchanged.
      assert.equal(res.isError, true);
      assert.match(res.content?.[0]?.text ?? '', /Input validation error/);

      assert.equal(sink.records.length, 1);
      const r = sink.records[0]!;
      assert.equal(r.outcome, 'tool_error');
      assert.equal(r.error_class, 'InvalidParams');
      assert.equal(r.error_code, '-32602');
      assert.equal(r.tool, 'echo');
      assert.equal(r.tool_version, '3');
      assert.equal(r.scope_required, 'crm:read');
      assertIdentity(r);
      // Redacted with echo's rules: `text` is allow-listed, but only scalar values are kept.
      const summary = JSON.parse(r.args_summary) as Record<string, { type: string; sha256_8?: string; value?: unknown }>;
      assert.equal(summary.text!.type, 'object');
      assert.equal(summary.text!.value, undefined);
      assert.match(summary.note!.sha256_8 ?? '', /^[0-9a-f]{8}$/);

      const spans = serverSpans('echo');
      assert.equal(spans.length, 1);
      const span = spans[0]!;
      assert.equal(span.spanContext().traceId, tp.traceId);
      assert.equal(span.parentSpanContext?.spanId, tp.spanId);
      assert.equal(span.attributes['error.type'], '-32602');
      assert.equal(span.attributes['rpc.response.status_code'], '-32602');
      assert.equal(span.attributes['mcp.method.name'], 'tools/call');
      assert.equal(span.attributes['mcptrail.tenant_id'], 'tenant-a');
      assert.equal(span.attributes['mcptrail.call_id'], r.call_id);
      assert.equal(span.status.code, SpanStatusCode.UNSET);
      assert.equal(r.trace_id, tp.traceId);
      assert.equal(r.span_id, span.spanContext().spanId);
      assert.equal(r.request_id, span.attributes['jsonrpc.request.id']);

      for (const s of exporter.getFinishedSpans()) {
        for (const v of Object.values(s.attributes)) assert.ok(!String(v).includes(CANARY), `span ${s.name} attribute`);
        assert.ok(!String(s.status.message ?? '').includes(CANARY), `span ${s.name} status`);
        for (const e of s.events) assert.ok(!JSON.stringify(e.attributes ?? {}).includes(CANARY), `span ${s.name} event`);
      }
      assert.ok(!JSON.stringify(sink.records).includes(CANARY), 'record');
      assert.ok(!JSON.stringify(sink.records).includes('validation'), 'no SDK message in the record');
      assert.ok(!logLines.join('').includes(CANARY), 'log');
    });

    test('an unknown tool: one tool_error record (UnknownTool, -32602), recorded as `unknown` with its name hashed', async () => {
      const tp = newTraceparent();
      const c = await client();
      // The name is caller text: it may carry anything, so it must appear nowhere.
      const name = `no_such_tool_${CANARY}_${'x'.repeat(300)}`;
      if (line === 'v1') {
        const res = await c.callTool(name, { q: CANARY }, { traceparent: tp.header });
        assert.equal(res.isError, true);
        assert.match(res.content?.[0]?.text ?? '', /not found/);
      } else {
        await assert.rejects(c.callTool(name, { q: CANARY }, { traceparent: tp.header }), (err: { code?: unknown }) => err.code === -32602);
      }

      assert.equal(sink.records.length, 1);
      const r = sink.records[0]!;
      assert.equal(r.outcome, 'tool_error');
      assert.equal(r.error_class, 'UnknownTool');
      assert.equal(r.error_code, '-32602');
      assert.equal(r.tool, 'unknown');
      assert.equal(r.tool_version, '');
      assert.equal(r.scope_required, '');
      assertIdentity(r);
      const summary = JSON.parse(r.args_summary) as Record<string, { type: string; len: number; sha256_8?: string }>;
      assert.deepEqual(Object.keys(summary), ['q']);
      assert.equal(summary.q!.len, CANARY.length);

      const spans = serverSpans('unknown');
      assert.equal(spans.length, 1);
      const span = spans[0]!;
      assert.equal(span.attributes['gen_ai.tool.name'], 'unknown');
      assert.equal(span.attributes['mcptrail.tool.name_sha256'], createHash('sha256').update(name).digest('hex'));
      assert.ok(!JSON.stringify(span.attributes).includes('no_such_tool'), 'the name is not on the span');
      assert.equal(span.parentSpanContext?.spanId, tp.spanId);
      assert.equal(span.attributes['error.type'], '-32602');
      assert.equal(span.status.code, SpanStatusCode.UNSET);
      assert.equal(r.trace_id, tp.traceId);
      assert.equal(r.span_id, span.spanContext().spanId);
      assert.ok(!JSON.stringify(sink.records).includes(CANARY));
      assert.ok(!JSON.stringify(sink.records).includes('no_such_tool'));
      assert.ok(!logLines.join('').includes(CANARY));
    });

    test('a name that is an Object.prototype key is an unknown tool too', async () => {
      const c = await client();
      await c.callTool('constructor', {}).catch(() => undefined);
      assert.equal(sink.records.length, 1);
      assert.equal(sink.records[0]!.error_class, 'UnknownTool');
      assert.equal(sink.records[0]!.outcome, 'tool_error');
    });

    test('normal calls still yield exactly one record each (ok, isError, denied)', async () => {
      const c = await client();
      await c.callTool('echo', { text: 'fine' });
      await c.callTool('fail', {});
      await c.callTool('secure', {});
      assert.deepEqual(
        sink.records.map((r) => [r.tool, r.outcome, r.error_code]),
        [
          ['echo', 'ok', ''],
          ['fail', 'tool_error', ''],
          ['secure', 'denied', 'insufficient_scope'],
        ],
      );
      assert.equal(serverSpans('echo').length, 1);
      assert.equal(serverSpans('fail').length, 1);
      assert.equal(serverSpans('secure').length, 1);
    });
  });
}

describe('tools/call guard without HTTP', () => {
  test('tools registered only after instrument(): the lazily installed handler is guarded', async () => {
    const sink = memorySink();
    const server = new McpServerV1({ name: 'lazy', version: '1' });
    instrument(server, { service: 's', sink });
    const { z } = await import('zod');
    server.registerTool('plain', { inputSchema: { text: z.string() } }, async ({ text }) => ({ content: [{ type: 'text', text }] }));
    const handler = (server.server as unknown as { _requestHandlers: Map<string, (req: unknown, extra: unknown) => Promise<unknown>> })._requestHandlers.get(
      'tools/call',
    )!;
    const extra = () => ({ requestId: 9, signal: new AbortController().signal, sendNotification: async () => {}, sendRequest: async () => ({}) });
    const bad = (await handler({ method: 'tools/call', params: { name: 'plain', arguments: { text: 5 } } }, extra())) as { isError?: boolean };
    assert.equal(bad.isError, true);
    const good = (await handler({ method: 'tools/call', params: { name: 'plain', arguments: { text: 'ok' } } }, extra())) as { isError?: boolean };
    assert.notEqual(good.isError, true);
    assert.deepEqual(
      sink.records.map((r) => [r.tool, r.outcome, r.error_class, r.error_code, r.auth_method, r.request_id]),
      [
        ['plain', 'tool_error', 'InvalidParams', '-32602', 'none', '9'],
        ['plain', 'ok', '', '', 'none', '9'],
      ],
    );
  });
});
