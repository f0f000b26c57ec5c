/**
 * The agent's stated intent (issue 17), with the official clients over real
 * HTTP: v1 `@modelcontextprotocol/sdk` against a v1 server (legacy revision),
 * and v2 `@modelcontextprotocol/client` pinned to 2026-07-28 against a v2
 * server behind the v2 SDK's createMcpHandler. For each: the `intent`
 * argument is listed; the handler never receives it (even a strict schema
 * accepts the call); `required` refuses a call without one, recorded;
 * `_meta` wins over the argument; a canary in the intent is masked on the
 * record and the span. Then the search: records of real calls, shipped to a
 * collector on the embedded ClickHouse, found by a word of their intent
 * through the audit API, the store's reader and the `mcptrail` CLI.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as TransportV1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpServer as McpServerV1 } from '@modelcontextprotocol/sdk/server/mcp.js';
import { McpServer as McpServerV2 } from '@modelcontextprotocol/server';
import { z } from 'zod';
import { createAuthenticator } from '../packages/mcptrail/src/auth/index.js';
import { createMcpHttpApp } from '../packages/mcptrail/src/instrument/fastify.js';
import { INTENT_META_KEY, type ToolPolicy } from '../packages/mcptrail/src/instrument/index.js';
import { recordedIntent } from '../packages/mcptrail/src/record/index.js';
import { listCalls } from '../packages/collector/src/audit/index.js';
import { installTracing, memorySink, type MemorySink } from './support/mcp-harness.js';
import { ndjson, postRecords, startTestCollector, type TestCollector } from './support/reliability-collector.js';
import { until } from './support/until.js';

const exporter = installTracing();
const TAG = randomBytes(6).toString('hex');
const KEY = 'intent-agent-key-0123456789abcdef';
/** An agent that may read but not refund: its refunds are refused at the HTTP edge. */
const READER_KEY = 'intent-reader-key-0123456789abcdef';

const POLICIES: Record<string, ToolPolicy> = {
  refund: { scope: 'crm:write', kind: 'write', intent: 'required', redact: { allow: ['amount'] } },
  search: { scope: 'crm:read', intent: 'optional', redact: { allow: ['query'] } },
  strict_search: { scope: 'crm:read', intent: 'optional' },
  /** Its own schema has an `intent` argument: the tool keeps it. */
  classify: { scope: 'crm:read', intent: 'optional' },
  plain: { scope: 'crm:read' },
};

type Line = 'v1' | 'v2';
interface Host {
  url: string;
  sink: MemorySink;
  /** What each handler was called with, in order. */
  received: { tool: string; args: Record<string, unknown> }[];
  close(): Promise<void>;
}

async function startHost(line: Line): Promise<Host> {
  const sink = memorySink();
  const received: Host['received'] = [];
  const handler = (tool: string) => async (args: Record<string, unknown>) => {
    received.push({ tool, args: { ...args } });
    return { content: [{ type: 'text' as const, text: `${tool} done` }] };
  };
  const shapes = {
    refund: { deal_id: z.string(), amount: z.number() },
    search: { query: z.string() },
    plain: { query: z.string() },
    classify: { intent: z.enum(['buy', 'sell']) },
  };
  const app = await createMcpHttpApp({
    authenticator: createAuthenticator({
      apiKeys: {
        [KEY]: { agentId: `agent-${line}`, tenantId: 'tenant-i', scopes: ['crm:read', 'crm:write'] },
        [READER_KEY]: { agentId: `reader-${line}`, tenantId: 'tenant-i', scopes: ['crm:read'] },
      },
    }),
    sink,
    service: `intent-${line}`,
    sdk: line,
    tools: POLICIES,
    serverFactory: () => {
      if (line === 'v1') {
        const server = new McpServerV1({ name: 'intent-v1', version: '1.0.0' });
        for (const [name, shape] of Object.entries(shapes)) server.registerTool(name, { inputSchema: shape }, handler(name) as never);
        server.registerTool('strict_search', { inputSchema: z.object({ query: z.string() }).strict() }, handler('strict_search') as never);
        return server;
      }
      const server = new McpServerV2({ name: 'intent-v2', version: '1.0.0' });
      for (const [name, shape] of Object.entries(shapes)) server.registerTool(name, { inputSchema: z.object(shape) }, handler(name) as never);
      server.registerTool('strict_search', { inputSchema: z.object({ query: z.string() }).strict() }, handler('strict_search') as never);
      return server;
    },
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/mcp`, sink, received, close: () => app.close() };
}

interface AnyClient {
  listTools(): Promise<{ tools: { name: string; inputSchema: { properties?: Record<string, { type?: string; description?: string }>; required?: string[] } }[] }>;
  callTool(req: { name: string; arguments: Record<string, unknown>; _meta?: Record<string, unknown> }): Promise<{ content?: { type: string; text?: string }[]; isError?: boolean }>;
  close(): Promise<void>;
}

async function connect(line: Line, url: string, key = KEY): Promise<AnyClient> {
  const requestInit = { headers: { authorization: `Bearer ${key}` } };
  if (line === 'v1') {
    const client = new ClientV1({ name: 'intent-v1-client', version: '1.0.0' });
    await client.connect(new TransportV1(new URL(url), { requestInit }));
    return client as unknown as AnyClient;
  }
  const client = new Client({ name: 'intent-v2-client', version: '2.4.0' }, { versionNegotiation: { mode: { pin: '2026-07-28' } } });
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit }));
  return client as unknown as AnyClient;
}

const textOf = (res: { content?: { type: string; text?: string }[] }) => res.content?.map((c) => c.text ?? '').join('\n') ?? '';
const spanOf = (callId: string) => exporter.getFinishedSpans().find((s) => s.attributes['mcptrail.call_id'] === callId && s.name.startsWith('tools/call'));

for (const line of ['v1', 'v2'] as const) {
  describe(`${line === 'v1' ? 'v1 client, v1 server (legacy)' : 'v2 client pinned to 2026-07-28, v2 createMcpHandler'}`, () => {
    let host: Host;
    let client: AnyClient;
    before(async () => {
      host = await startHost(line);
      client = await connect(line, host.url);
    });
    after(async () => {
      await client?.close();
      await host?.close();
    });
    const lastRecord = (tool: string) => host.sink.records.filter((r) => r.tool === tool).at(-1)!;

    test('tools/list: the intent argument is in the schema (required under `required`), absent where the policy is off', async () => {
      const { tools } = await client.listTools();
      const byName = Object.fromEntries(tools.map((t) => [t.name, t.inputSchema]));
      assert.equal(byName.refund!.properties!.intent!.type, 'string');
      assert.match(byName.refund!.properties!.intent!.description!, /why you are calling this tool/);
      assert.ok(byName.refund!.required!.includes('intent') && byName.refund!.required!.includes('deal_id'));
      assert.equal(byName.search!.properties!.intent!.type, 'string');
      assert.ok(!(byName.search!.required ?? []).includes('intent'), 'optional: listed, not required');
      assert.ok(byName.search!.properties!.query, 'the tool\'s own arguments are still there');
      assert.equal(byName.plain!.properties!.intent, undefined);
    });

    test('the argument reaches the record and the span, never the handler or the argument summary', async () => {
      const intent = 'Find the billing contact so the overdue invoice can be resent.';
      const res = await client.callTool({ name: 'search', arguments: { query: 'ada', intent } });
      assert.equal(res.isError, undefined);
      assert.deepEqual(host.received.at(-1), { tool: 'search', args: { query: 'ada' } });
      const r = lastRecord('search');
      assert.equal(r.outcome, 'ok');
      assert.equal(r.intent, intent);
      assert.deepEqual(Object.keys(JSON.parse(r.args_summary)), ['query']);
      assert.equal(spanOf(r.call_id)!.attributes['mcptrail.intent'], intent);
    });

    test('a strict schema accepts the call: the argument is removed before validation', async () => {
      const res = await client.callTool({ name: 'strict_search', arguments: { query: 'ada', intent: 'Check the contact exists before a merge.' } });
      assert.equal(res.isError, undefined, textOf(res));
      assert.deepEqual(host.received.at(-1), { tool: 'strict_search', args: { query: 'ada' } });
      assert.equal(lastRecord('strict_search').intent, 'Check the contact exists before a merge.');
    });

    test('a tool with an `intent` argument of its own keeps it; then only `_meta` states mcptrail\'s', async () => {
      const { tools } = await client.listTools();
      const own = tools.find((t) => t.name === 'classify')!.inputSchema.properties!.intent!;
      assert.doesNotMatch(JSON.stringify(own), /why you are calling/);
      await client.callTool({ name: 'classify', arguments: { intent: 'buy' }, _meta: { [INTENT_META_KEY]: 'Sort the inbound lead.' } });
      assert.deepEqual(host.received.at(-1), { tool: 'classify', args: { intent: 'buy' } });
      assert.equal(lastRecord('classify').intent, 'Sort the inbound lead.');
      await client.callTool({ name: 'classify', arguments: { intent: 'sell' } });
      assert.deepEqual(host.received.at(-1), { tool: 'classify', args: { intent: 'sell' } });
      assert.equal(lastRecord('classify').intent, '');
    });

    test('no intent under `optional`: the call runs and records none', async () => {
      await client.callTool({ name: 'search', arguments: { query: 'bob' } });
      assert.deepEqual(host.received.at(-1), { tool: 'search', args: { query: 'bob' } });
      assert.equal(lastRecord('search').intent, '');
    });

    test('`required` refuses a call without an intent with an instruction the model can act on; the refusal is recorded', async () => {
      const before = host.received.length;
      for (const args of [{ deal_id: 'D-1', amount: 5 }, { deal_id: 'D-1', amount: 5, intent: '   ' }]) {
        const res = await client.callTool({ name: 'refund', arguments: args });
        assert.equal(res.isError, true);
        assert.match(textOf(res), /state why you are calling this tool in `intent`/);
        const r = lastRecord('refund');
        assert.equal(r.outcome, 'tool_error');
        assert.equal(r.error_class, 'IntentRequired');
        assert.equal(r.error_code, 'intent_required');
        assert.equal(r.intent, '');
        assert.equal(spanOf(r.call_id)!.attributes['mcptrail.error.code'], 'intent_required');
        assert.equal(spanOf(r.call_id)!.attributes['mcptrail.intent'], undefined);
      }
      assert.equal(host.received.length, before, 'the handler never ran');
      // With an intent the same call runs.
      const ok = await client.callTool({ name: 'refund', arguments: { deal_id: 'D-1', amount: 5, intent: 'Refund the duplicate charge the customer reported.' } });
      assert.equal(ok.isError, undefined, textOf(ok));
      assert.deepEqual(host.received.at(-1), { tool: 'refund', args: { deal_id: 'D-1', amount: 5 } });
      assert.equal(lastRecord('refund').intent, 'Refund the duplicate charge the customer reported.');
    });

    test('`_meta` takes precedence over the argument (and satisfies `required`)', async () => {
      await client.callTool({
        name: 'refund',
        arguments: { deal_id: 'D-2', amount: 7, intent: 'the argument' },
        _meta: { [INTENT_META_KEY]: 'Refund the cancelled order D-2 (from _meta).' },
      });
      assert.deepEqual(host.received.at(-1), { tool: 'refund', args: { deal_id: 'D-2', amount: 7 } });
      assert.equal(lastRecord('refund').outcome, 'ok');
      assert.equal(lastRecord('refund').intent, 'Refund the cancelled order D-2 (from _meta).');
      await client.callTool({ name: 'refund', arguments: { deal_id: 'D-3', amount: 1 }, _meta: { [INTENT_META_KEY]: 'Goodwill credit, stated in _meta only.' } });
      assert.equal(lastRecord('refund').outcome, 'ok');
      assert.equal(lastRecord('refund').intent, 'Goodwill credit, stated in _meta only.');
    });

    test('a canary in the intent is masked on the record and the span; the rest of the sentence is kept', async () => {
      const secret = `sk_live_${TAG}abcdefgh`;
      const email = `c${TAG}@example.com`;
      const intent = `Refund ${email} who pasted ${secret} and Bearer ${TAG}0123456789 into chat`;
      await client.callTool({ name: 'refund', arguments: { deal_id: 'D-4', amount: 2, intent } });
      const r = lastRecord('refund');
      assert.equal(r.outcome, 'ok');
      assert.ok(!JSON.stringify(r).includes(TAG), `the tag is on the record: ${JSON.stringify(r)}`);
      assert.equal(r.intent, 'Refund [email] who pasted [secret] and [secret] into chat');
      const span = spanOf(r.call_id)!;
      assert.equal(span.attributes['mcptrail.intent'], r.intent);
      assert.ok(!JSON.stringify(span.attributes).includes(TAG));
    });

    test('a call refused at the HTTP edge (scope) keeps its stated intent when the edge read the body', async () => {
      const reader = await connect(line, host.url, READER_KEY);
      await assert.rejects(reader.callTool({ name: 'refund', arguments: { deal_id: 'D-5', amount: 1, intent: `Refund D-5, ask c${TAG}@example.com` } }));
      await reader.close();
      const r = host.sink.records.filter((x) => x.agent_id === `reader-${line}` && x.tool === 'refund').at(-1)!;
      assert.equal(r.outcome, 'denied');
      // 2026-07-28 is refused from its headers (Mcp-Name), before the body and its intent are read.
      assert.equal(r.intent, line === 'v1' ? 'Refund D-5, ask [email]' : '');
      assert.equal(spanOf(r.call_id)!.attributes['mcptrail.intent'], line === 'v1' ? 'Refund D-5, ask [email]' : undefined);
    });

    test('an intent is bounded to 300 characters', async () => {
      await client.callTool({ name: 'search', arguments: { query: 'x', intent: `Because ${'very '.repeat(200)}much.` } });
      assert.equal(lastRecord('search').intent.length, 300);
    });
  });
}

test('recordedIntent: blank and non-strings are no intent; whitespace collapses; card numbers, URLs with credentials and JWTs are masked', () => {
  assert.equal(recordedIntent(undefined), '');
  assert.equal(recordedIntent(42), '');
  assert.equal(recordedIntent(' \n\t '), '');
  assert.equal(recordedIntent('Two\nlines\u0000here'), 'Two lines here');
  assert.equal(recordedIntent('charge 4242 4242 4242 4242 again'), 'charge [secret] again');
  assert.ok(!recordedIntent('see https://bob:hunter2@crm.example/x').includes('hunter2'));
  assert.equal(recordedIntent('token eyJhbGciOiJI.eyJzdWIiOiIx.c2lnbmF0dXJl'), 'token [secret]');
  // A long input is cut on a word boundary before masking: no half of a secret survives the cut.
  const long = `${'word '.repeat(409)}sk_live_abcdefghijklmnop`;
  assert.ok(!recordedIntent(long).includes('sk_live'));
});

describe('search by intent: the API, the CLI and the store find a call by a word of its intent', () => {
  let tc: TestCollector;
  let host: Host;
  before(async () => {
    tc = await startTestCollector();
    host = await startHost('v2');
  });
  after(async () => {
    await host?.close();
    await tc?.close();
  });

  test('records of real calls, shipped to the collector, found by a word (any case), with LIKE wildcards taken literally', async () => {
    const client = await connect('v2', host.url);
    await client.callTool({ name: 'refund', arguments: { deal_id: 'D-8', amount: 9, intent: 'Refund the Duplicate charge on D-8.' } });
    await client.callTool({ name: 'refund', arguments: { deal_id: 'D-9', amount: 3 }, _meta: { [INTENT_META_KEY]: 'Goodwill credit for 100_percent of the outage.' } });
    await client.callTool({ name: 'search', arguments: { query: 'ada', intent: 'Find the contact before the renewal call.' } });
    await client.callTool({ name: 'refund', arguments: { deal_id: 'D-10', amount: 3 } });
    await client.close();
    assert.equal((await postRecords(tc.base, ndjson(host.sink.records))).status, 200);
    const api = async (qs: string) => {
      const res = await fetch(`${tc.base}/api/calls?${qs}`);
      return { status: res.status, body: (await res.json()) as { calls?: { call_id: string; intent: string; tool: string }[]; error?: string } };
    };
    await until('the records are stored', async () => ((await api('since=1h')).body.calls?.length === 4 ? true : undefined));

    const dup = await api('intent=duplicate');
    assert.equal(dup.status, 200);
    assert.deepEqual(dup.body.calls!.map((c) => c.intent), ['Refund the Duplicate charge on D-8.']);
    assert.deepEqual((await api('intent=DUPLICATE%20CHARGE')).body.calls!.map((c) => c.intent), ['Refund the Duplicate charge on D-8.']);
    assert.deepEqual((await api('intent=100_percent')).body.calls!.map((c) => c.intent), ['Goodwill credit for 100_percent of the outage.']);
    assert.deepEqual((await api('intent=100%25')).body.calls, [], '% is a character, not a wildcard');
    assert.deepEqual((await api('intent=d_8')).body.calls, [], '_ is a character, not a wildcard');
    assert.equal((await api('intent=')).status, 400);
    assert.equal((await api(`intent=${'x'.repeat(301)}`)).status, 400);
    // The refused refund is there too, with no intent and the refusal it got.
    const refused = (await api('tool=refund&outcome=tool_error')).body.calls!;
    assert.equal(refused.length, 1);
    assert.equal(refused[0]!.intent, '');

    // The same through the store's reader, and the n-gram index of migration 8 is what the predicate uses.
    const found = await listCalls(tc.store, { intent: 'renewal' });
    assert.deepEqual(found.map((c) => c.tool), ['search']);
    const plan = await tc.store.query<{ explain: string }>(`EXPLAIN indexes = 1 SELECT call_id FROM mcptrail.tool_calls WHERE lower(intent) LIKE '%renewal%'`);
    assert.ok(plan.some((r) => r.explain.includes('idx_intent')), plan.map((r) => r.explain).join('\n'));

    // The CLI: a column in the table, a field in --json, and --intent.
    const cli = (...args: string[]) => runCli(args, tc.base);
    const table = await cli('calls', '--intent', 'duplicate');
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout.split('\n')[0]!, /\bINTENT$/);
    assert.match(table.stdout, /refund@?\S*\s.*Refund the Duplicate charge on D-8\.$/m);
    assert.match(table.stdout, /^1 call\(s\)/m);
    const json = await cli('calls', '--tool', 'refund', '--json');
    const rows = JSON.parse(json.stdout) as { intent: string; error_code: string }[];
    assert.deepEqual(rows.map((r) => [r.intent, r.error_code]).sort(), [
      ['', 'intent_required'],
      ['Goodwill credit for 100_percent of the outage.', ''],
      ['Refund the Duplicate charge on D-8.', ''],
    ]);
    const bad = await cli('calls', '--intent', ' ');
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--intent must be text/);
  });
});

const CLI = join(import.meta.dirname, '..', 'packages', 'collector', 'bin', 'mcptrail.js');

function runCli(args: string[], collectorUrl: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, MCPTRAIL_COLLECTOR_URL: collectorUrl }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}
