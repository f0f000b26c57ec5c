import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { McpServer as McpServerV1 } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-node';
import { createAuthenticator } from '../packages/mcptrail/src/auth/index.js';
import { instrument, unwrapUntrusted } from '../packages/mcptrail/src/instrument/index.js';
import { AUDIENCE, ISSUER, mintHs256, standardClaims } from './support/auth-keys.js';
import {
  connectClient,
  installTracing,
  memorySink,
  newTraceparent,
  startMcpApp,
  type McpTestClient,
  type RunningApp,
  type SdkLine,
} from './support/mcp-harness.js';
import { startUpstream, type FakeUpstream } from './support/mcp-upstream.js';

const SECRET = 'instrument-test-secret-0123456789abcdef';
const exporter = installTracing();
const authenticator = createAuthenticator({ jwt: { secret: SECRET, issuer: ISSUER, audience: AUDIENCE } });

/** Tool output arrives inside an untrusted-data boundary; these tests look at what is inside. */
const textOf = (res: { content?: { text?: string }[] }, i = 0) => unwrapUntrusted(res.content?.[i]?.text ?? '');

function serverSpans(tool: string): ReadableSpan[] {
  return exporter.getFinishedSpans().filter((s) => s.name === `tools/call ${tool}` && s.kind === SpanKind.SERVER);
}

function onlyServerSpan(tool: string): ReadableSpan {
  const spans = serverSpans(tool);
  assert.equal(spans.length, 1, `expected one SERVER span for ${tool}, got ${spans.length}`);
  return spans[0]!;
}

for (const line of ['v1', 'v2'] as SdkLine[]) {
  describe(`SDK ${line} over Streamable HTTP`, () => {
    const sink = memorySink();
    let app: RunningApp;
    let upstream: FakeUpstream;
    let token: string;
    const clients: McpTestClient[] = [];

    const client = async (headers: Record<string, string> = {}, bearer = token) => {
      const c = await connectClient(line, app.url, { authorization: `Bearer ${bearer}`, ...headers });
      clients.push(c);
      return c;
    };

    before(async () => {
      upstream = await startUpstream();
      // The app detects the SDK line from the factory's server.
      app = await startMcpApp(line, { authenticator, sink, setup: { upstreamUrl: upstream.url }, probe: true });
      token = await mintHs256(SECRET, standardClaims({ scope: 'crm:read' }));
    });
    after(async () => {
      for (const c of clients) await c.close().catch(() => {});
      await app.close();
      await upstream.close();
    });
    beforeEach(() => {
      exporter.reset();
      sink.records.length = 0;
      upstream.seen.length = 0;
    });

    test('_meta.traceparent parents the SERVER span, with the semconv attributes', async () => {
      const tp = newTraceparent();
      const c = await client();
      const res = await c.callTool('echo', { text: 'hello-args-value' }, { traceparent: tp.header });
      assert.match(res.content?.[0]?.text ?? '', /^<untrusted-data id="[0-9a-f]{32}">\n/);
      assert.equal(textOf(res), 'hello-args-value');

      const span = onlyServerSpan('echo');
      assert.equal(span.spanContext().traceId, tp.traceId);
      assert.equal(span.parentSpanContext?.spanId, tp.spanId);
      assert.equal(span.links.length, 0);
      const a = span.attributes;
      assert.equal(a['mcp.method.name'], 'tools/call');
      assert.equal(a['gen_ai.tool.name'], 'echo');
      assert.equal(a['gen_ai.operation.name'], 'execute_tool');
      assert.equal(a['network.transport'], 'tcp');
      assert.match(String(a['jsonrpc.request.id']), /^\d+$/);
      assert.match(String(a['mcp.protocol.version']), /^\d{4}-\d{2}-\d{2}$/);
      assert.equal(a['mcptrail.tenant_id'], 'tenant-a');
      assert.equal(a['mcptrail.agent_id'], 'agent-1');
      assert.equal(a['error.type'], undefined);
      assert.equal(span.status.code, SpanStatusCode.UNSET);
      // Arguments and results are never attributes.
      for (const v of Object.values(a)) assert.ok(!String(v).includes('hello-args-value'));

      assert.equal(sink.records.length, 1);
      const r = sink.records[0]!;
      assert.equal(a['mcptrail.call_id'], r.call_id);
      assert.equal(r.trace_id, tp.traceId);
      assert.equal(r.span_id, span.spanContext().spanId);
      assert.equal(r.request_id, a['jsonrpc.request.id']);
    });

    test('only the HTTP traceparent header: the span is parented on it', async () => {
      const tp = newTraceparent();
      const c = await client({ traceparent: tp.header });
      await c.callTool('echo', { text: 'x' });
      const span = onlyServerSpan('echo');
      assert.equal(span.spanContext().traceId, tp.traceId);
      assert.equal(span.parentSpanContext?.spanId, tp.spanId);
      assert.equal(span.links.length, 0);
    });

    test('both: parented on _meta, linked to the HTTP context', async () => {
      const http = newTraceparent();
      const meta = newTraceparent();
      const c = await client({ traceparent: http.header });
      await c.callTool('echo', { text: 'x' }, { traceparent: meta.header });
      const span = onlyServerSpan('echo');
      assert.equal(span.spanContext().traceId, meta.traceId);
      assert.equal(span.parentSpanContext?.spanId, meta.spanId);
      assert.equal(span.links.length, 1);
      assert.equal(span.links[0]!.context.traceId, http.traceId);
      assert.equal(span.links[0]!.context.spanId, http.spanId);
    });

    test('one record per call, identity from the verified token only', async () => {
      const c = await client();
      // A tenant in the arguments must not matter (whoami takes none; extra keys are stripped or ignored).
      const res = await c.callTool('whoami', {});
      assert.deepEqual(JSON.parse(textOf(res)), { tenant: 'tenant-a', agent: 'agent-1', tool: 'whoami' });
      await c.callTool('echo', { text: 'two' });
      assert.equal(sink.records.length, 2);
      const [who, echo] = sink.records;
      assert.equal(who!.tool, 'whoami');
      assert.equal(echo!.tool, 'echo');
      for (const r of sink.records) {
        assert.equal(r.service, `svc-${line}`);
        assert.equal(r.tenant_id, 'tenant-a');
        assert.equal(r.agent_id, 'agent-1');
        assert.equal(r.subject, 'user-1');
        assert.equal(r.auth_method, 'jwt');
        assert.deepEqual(r.scopes_granted, ['crm:read']);
        assert.equal(r.outcome, 'ok');
        assert.ok(r.duration_ms >= 0);
      }
      assert.equal(echo!.tool_version, '3');
      assert.equal(echo!.scope_required, 'crm:read');
      assert.equal(echo!.budget_ms_total, 20_000);
      assert.deepEqual(JSON.parse(echo!.args_summary), { text: { type: 'string', len: 3, value: 'two' } });
      assert.notEqual(who!.call_id, echo!.call_id);
    });

    test('missing token: 401, WWW-Authenticate, an unauthenticated record', async () => {
      const tp = newTraceparent();
      const res = await fetch(app.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', traceparent: tp.header },
        body: JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'echo', arguments: { text: 'x' } } }),
      });
      assert.equal(res.status, 401);
      const challenge = res.headers.get('www-authenticate') ?? '';
      assert.match(challenge, /^Bearer /);
      assert.match(challenge, /resource_metadata="http:\/\/127\.0\.0\.1:\d+\/\.well-known\/oauth-protected-resource\/mcp"/);
      const body = (await res.json()) as { id: unknown; error: { code: number } };
      assert.equal(body.id, 7);
      assert.equal(typeof body.error.code, 'number');

      assert.equal(sink.records.length, 1);
      const r = sink.records[0]!;
      assert.equal(r.outcome, 'unauthenticated');
      assert.equal(r.tool, 'echo');
      assert.equal(r.tenant_id, '');
      assert.equal(r.agent_id, '');
      assert.equal(r.request_id, '7');
      assert.equal(r.error_code, 'missing_token');
      assert.equal(r.trace_id, tp.traceId);

      // The challenge's metadata URL resolves.
      const meta = challenge.match(/resource_metadata="([^"]+)"/)![1]!;
      const doc = (await (await fetch(meta)).json()) as { resource: string };
      assert.equal(doc.resource, app.url);
    });

    test('a bad token is refused the same way and never reaches a tool', async () => {
      const expired = await mintHs256(SECRET, standardClaims(), { exp: Math.floor(Date.now() / 1000) - 600 });
      await assert.rejects(client({}, expired));
      assert.ok(sink.records.every((r) => r.outcome === 'unauthenticated'));
    });

    test('GET and DELETE on the MCP path: 405 (stateless)', async () => {
      for (const method of ['GET', 'DELETE']) {
        const res = await fetch(app.url, { method, headers: { authorization: `Bearer ${token}` } });
        assert.equal(res.status, 405, method);
        await res.arrayBuffer();
      }
    });

    test('an isError result: outcome tool_error, span error.type=tool_error', async () => {
      const c = await client();
      const res = await c.callTool('fail', {});
      assert.equal(res.isError, true);
      assert.equal(textOf(res), 'no such customer');
      const span = onlyServerSpan('fail');
      assert.equal(span.attributes['error.type'], 'tool_error');
      assert.equal(span.status.code, SpanStatusCode.ERROR);
      assert.equal(sink.records.length, 1);
      assert.equal(sink.records[0]!.outcome, 'tool_error');
    });

    test('a token without the tool scope: denied, naming the scope', async () => {
      const c = await client();
      const res = await c.callTool('secure', {});
      assert.equal(res.isError, true);
      assert.match(res.content?.[0]?.text ?? '', /crm:admin/);
      assert.ok(!(res.content?.[0]?.text ?? '').includes('classified'));
      const r = sink.records[0]!;
      assert.equal(r.outcome, 'denied');
      assert.equal(r.scope_required, 'crm:admin');
      assert.equal(r.error_code, 'insufficient_scope');

      const admin = await client({}, await mintHs256(SECRET, standardClaims({ scope: 'crm:read crm:admin' })));
      const ok = await admin.callTool('secure', {});
      assert.equal(textOf(ok), 'classified');
      assert.equal(sink.records[1]!.outcome, 'ok');
    });

    test('the upstream client propagates traceparent and X-Request-Id and is counted', async () => {
      const tp = newTraceparent();
      const c = await client();
      const res = await c.callTool('call_upstream', {}, { traceparent: tp.header });
      assert.deepEqual(JSON.parse(textOf(res)), { pong: true });

      assert.equal(upstream.seen.length, 1);
      const seen = upstream.seen[0]!;
      const clientSpans = exporter.getFinishedSpans().filter((s) => s.kind === SpanKind.CLIENT);
      assert.equal(clientSpans.length, 1);
      const clientSpan = clientSpans[0]!;
      const server = onlyServerSpan('call_upstream');
      assert.equal(clientSpan.parentSpanContext?.spanId, server.spanContext().spanId);

      const [, traceId, parentId] = String(seen.headers.traceparent).split('-');
      assert.equal(traceId, tp.traceId);
      assert.equal(parentId, clientSpan.spanContext().spanId);

      const r = sink.records[0]!;
      assert.equal(seen.headers['x-request-id'], r.call_id);
      assert.equal(r.upstream_calls, 1);
      assert.equal(r.budget_ms_total, 5_000);
      assert.ok(r.budget_ms_used <= 5_000);

      const a = clientSpan.attributes;
      assert.equal(clientSpan.name, 'GET');
      assert.equal(a['http.request.method'], 'GET');
      assert.equal(a['http.response.status_code'], 200);
      assert.equal(a['server.address'], '127.0.0.1');
      assert.equal(typeof a['server.port'], 'number');
      assert.match(String(a['url.full']), /\/v1\/ping\?q=REDACTED&token=REDACTED$/);
      assert.equal(seen.url, '/v1/ping?q=x&token=query-secret');
    });

    test('an upstream slower than the call budget: deadline_exceeded, a safe answer', async () => {
      const c = await client();
      const started = Date.now();
      const res = await c.callTool('slow_upstream', {});
      assert.ok(Date.now() - started < 1_500, 'the upstream timeout came from the 400 ms budget');
      assert.equal(res.isError, true);
      assert.match(res.content?.[0]?.text ?? '', /^Deadline exceeded/);
      const r = sink.records[0]!;
      assert.equal(r.outcome, 'deadline_exceeded');
      assert.equal(r.error_class, 'UpstreamTimeoutError');
      assert.equal(r.error_code, 'upstream_timeout');
      assert.equal(r.upstream_calls, 1);
      assert.equal(r.budget_ms_total, 400);
      const clientSpan = exporter.getFinishedSpans().find((s) => s.kind === SpanKind.CLIENT)!;
      assert.equal(clientSpan.attributes['error.type'], 'UpstreamTimeoutError');
      // The agent got an isError result: the conventions' tool_error, the internal class in mcptrail's attribute.
      const server = onlyServerSpan('slow_upstream');
      assert.equal(server.attributes['error.type'], 'tool_error');
      assert.equal(server.attributes['mcptrail.error.class'], 'UpstreamTimeoutError');
      assert.equal(server.attributes['mcptrail.outcome'], 'deadline_exceeded');
      assert.equal(server.status.code, SpanStatusCode.ERROR);
    });
  });
}

describe('instrument()', () => {
  test('instrumenting twice wraps once: one record per call', async () => {
    const sink = memorySink();
    const server = new McpServerV1({ name: 'twice', version: '1' });
    server.registerTool('noop', {}, async () => ({ content: [] }));
    instrument(server, { service: 's', sink });
    instrument(server, { service: 's', sink });
    const tool = (server as unknown as { _registeredTools: Record<string, { handler: (extra: unknown) => Promise<unknown> }> })._registeredTools.noop!;
    await tool.handler({ requestId: 1, signal: new AbortController().signal });
    assert.equal(sink.records.length, 1);
    assert.equal(sink.records[0]!.auth_method, 'none');
    assert.equal(sink.records[0]!.request_id, '1');
  });

  test('update({ callback }) after instrument() stays wrapped', async () => {
    const sink = memorySink();
    const server = new McpServerV1({ name: 'upd', version: '1' });
    instrument(server, { service: 's', sink });
    const registered = server.registerTool('t', {}, async () => ({ content: [] }));
    registered.update({ callback: async () => ({ content: [], isError: true }) });
    const tool = (server as unknown as { _registeredTools: Record<string, { handler: (extra: unknown) => Promise<unknown> }> })._registeredTools.t!;
    await tool.handler({ requestId: 'a', signal: new AbortController().signal });
    assert.equal(sink.records.length, 1);
    assert.equal(sink.records[0]!.outcome, 'tool_error');
  });

  test('legacy tool() registrations are wrapped too', async () => {
    const sink = memorySink();
    const server = new McpServerV1({ name: 'legacy', version: '1' });
    instrument(server, { service: 's', sink, defaults: { version: '7' } });
    server.tool('old_style', 'a description', async () => ({ content: [] }));
    const tool = (server as unknown as { _registeredTools: Record<string, { handler: (extra: unknown) => Promise<unknown> }> })._registeredTools.old_style!;
    await tool.handler({ requestId: 2, signal: new AbortController().signal });
    assert.equal(sink.records.length, 1);
    assert.equal(sink.records[0]!.tool, 'old_style');
    assert.equal(sink.records[0]!.tool_version, '7');
  });

  test('refuses something that is not an McpServer', () => {
    assert.throws(() => instrument({} as never, { service: 's', sink: memorySink() }), TypeError);
  });
});
