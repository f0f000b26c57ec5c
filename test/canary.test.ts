/**
 * No caller-supplied value in any stored channel (issue 10, item 2). One tag
 * is planted everywhere an agent or an attacker can write free text: a tool
 * argument that becomes an upstream URL path (crm.update_deal's deal_id), a
 * search term that becomes a query value, a JSON-RPC id, an unregistered
 * tool name (authenticated and not), a tracestate, a caller idempotency key,
 * a dropped note, a stated intent (in the argument and in `_meta`). Then every channel is searched for the tag: every table of
 * the store (tool_calls, otel_traces with all attributes, names, events and
 * links, the rollup, alert_events after a real alert fired, pipeline_events),
 * the pino output, every file under the data dir (spools, the idempotency
 * journal), and what the agents were answered.
 *
 * Real parts: the demo stack in process (the CRM MCP server, its upstream,
 * the OTLP exporter), a collector on the embedded ClickHouse, the official
 * MCP SDK client over HTTP, the built-in alert evaluator.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { AlertEvaluator } from '../packages/collector/src/alerts/index.js';
import { startDemo, type Demo } from '../packages/collector/src/demo/index.js';
import { startTestCollector, type TestCollector } from './support/reliability-collector.js';
import { jsonRpcBody } from './support/jsonrpc-response.js';

const TAG = randomBytes(6).toString('hex');
const SECRET = (n: number) => `sk_live_${TAG}${n}abcdefgh`;
const EMAIL = `c${TAG}@example.com`;

let tc: TestCollector;
let demo: Demo;
let log = '';
/** Every answer an agent got (JSON-RPC `id` removed: the protocol echoes the caller's own id). */
const answers: unknown[] = [];

async function connectAs(agentId: string): Promise<Client> {
  const agent = demo.file.agents.find((a) => a.agentId === agentId)!;
  const client = new Client({ name: 'canary-test', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(demo.file.mcpUrl), { requestInit: { headers: { authorization: `Bearer ${agent.token}` } } }));
  return client;
}

async function raw(body: unknown, headers: Record<string, string>): Promise<{ status: number; json: unknown }> {
  const res = await fetch(demo.file.mcpUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-06-18', ...headers },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: await jsonRpcBody(res) };
}

function withoutIds(answer: unknown): unknown {
  if (Array.isArray(answer)) return answer.map(withoutIds);
  if (answer && typeof answer === 'object') {
    const { id: _id, ...rest } = answer as Record<string, unknown>;
    return rest;
  }
  return answer;
}

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await filesUnder(path)));
    else out.push(path);
  }
  return out;
}

before(async () => {
  tc = await startTestCollector({ batch: { maxDelayMs: 10 } });
  demo = await startDemo({
    collectorUrl: tc.base,
    dataDir: join(tc.dir, 'demo'),
    mcpPort: 0,
    upstreamPort: 0,
    ratePerAgent: 0,
    incidents: false,
    recordLog: new Writable({
      write(chunk, _enc, cb) {
        log += chunk.toString();
        cb();
      },
    }),
  });
});

after(async () => {
  await demo?.close().catch(() => undefined);
  await tc?.close();
});

test('a planted tag reaches no column, span, rollup, alert, log line, spool file or answer', async () => {
  const billing = await connectAs('acme-billing-bot');
  const token = demo.file.agents.find((a) => a.agentId === 'acme-billing-bot')!.token;
  const traceId = randomBytes(16).toString('hex');
  const traceparent = `00-${traceId}-${randomBytes(8).toString('hex')}-01`;

  // An argument that becomes a URL path segment, and one that becomes a query value.
  answers.push(await billing.callTool({ name: 'crm.update_deal', arguments: { deal_id: SECRET(1), stage: 'won' }, _meta: { traceparent } }));
  // (Its answer is left out: the stand-in CRM makes up contacts from the search term, data the agent asked for.)
  // ... with an intent stated in _meta.
  await billing.callTool({ name: 'crm.search_contacts', arguments: { query: EMAIL }, _meta: { 'io.mcptrail/intent': `Find ${EMAIL} (ticket token ${SECRET(10)})` } });
  // A caller idempotency key and a dropped note.
  answers.push(
    await billing.callTool({
      name: 'crm.issue_refund',
      // A stated intent quoting a secret and an email, in the argument mcptrail lists.
      arguments: { deal_id: 'D-1', amount: 1, note: SECRET(2), intent: `Refund ${EMAIL}, who pasted ${SECRET(9)} into the chat` },
      _meta: { 'io.mcptrail/idempotency-key': `refund-${EMAIL}` },
    }),
  );
  await billing.close();
  // A JSON-RPC id and a tracestate, over the HTTP header.
  const idCall = await raw(
    { jsonrpc: '2.0', id: SECRET(3), method: 'tools/call', params: { name: 'crm.search_contacts', arguments: { query: 'ada' } } },
    { authorization: `Bearer ${token}`, traceparent, tracestate: `vendor=${SECRET(4)},mail=${EMAIL},ok=fine` },
  );
  assert.equal(idCall.status, 200);
  answers.push(withoutIds(idCall.json));
  // An unregistered tool, authenticated: the SDK's own answer echoes the name to the caller who sent it (not a store).
  const unknown = await raw({ jsonrpc: '2.0', id: 9, method: 'tools/call', params: { name: `tool_${SECRET(5)}`, arguments: {} } }, { authorization: `Bearer ${token}` });
  assert.equal(unknown.status, 200);
  // Without a token, in a batch: refused at the edge.
  const refused = await raw(
    [
      { jsonrpc: '2.0', id: SECRET(6), method: 'tools/call', params: { name: `x_${SECRET(7)}`, arguments: { q: EMAIL } } },
      { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'crm.search_contacts', arguments: { query: EMAIL } } },
    ],
    { tracestate: `v=${SECRET(8)}`, traceparent },
  );
  assert.equal(refused.status, 401);
  answers.push(withoutIds(refused.json));

  // A real alert, so the alert table is searched with rows in it: initech's grant is revoked.
  demo.upstream.revoke('initech');
  const initech = await connectAs('initech-ops-agent');
  answers.push(await initech.callTool({ name: 'crm.search_contacts', arguments: { query: EMAIL } }));
  await initech.close();

  // Stop the demo: the sink and the exporter flush into the collector, which writes its batches.
  await demo.close();
  await tc.collector.close();
  const evaluator = new AlertEvaluator({ store: tc.store });
  const now = Date.now();
  await evaluator.evaluate(new Date(now + 65_000));
  await evaluator.evaluate(new Date(now + 130_000));

  const tables = await tc.store.query<{ name: string }>(`SELECT name FROM system.tables WHERE database = 'mcptrail' AND engine NOT LIKE '%View%'`);
  const counts: Record<string, number> = {};
  for (const { name } of tables) {
    const [row] = await tc.store.query<{ hits: string; rows: string }>(
      `SELECT countIf(position(formatRow('JSONEachRow', *), {tag:String}) > 0) AS hits, count() AS rows FROM mcptrail.${name}`,
      { tag: TAG },
    );
    counts[name] = Number(row!.rows);
    assert.equal(Number(row!.hits), 0, `the tag is in mcptrail.${name}`);
  }
  for (const t of ['tool_calls', 'otel_traces', 'tool_calls_1m', 'alert_events']) assert.ok(counts[t]! > 0, `${t} has rows to search (${JSON.stringify(counts)})`);

  // The calls are there, as what they were.
  const calls = await tc.store.query<{ tool: string; outcome: string; request_id: string; calls_in_request: number }>(
    `SELECT tool, outcome, request_id, calls_in_request FROM mcptrail.tool_calls`,
  );
  assert.ok(calls.some((c) => c.tool === 'unknown' && c.outcome === 'tool_error'), 'the unknown tool is recorded as unknown');
  assert.ok(calls.some((c) => c.outcome === 'unauthenticated' && Number(c.calls_in_request) === 2), 'the refused batch: one record, two calls');
  assert.ok(calls.some((c) => /^sha256:[0-9a-f]{16}$/.test(c.request_id)), 'the odd JSON-RPC id is stored hashed');
  // The stated intents are stored, masked (not dropped): the sentence is there, its secret and email are not.
  const intents = (await tc.store.query<{ tool: string; intent: string }>(`SELECT tool, intent FROM mcptrail.tool_calls WHERE intent != ''`)).map((r) => `${r.tool}: ${r.intent}`);
  assert.ok(intents.includes('crm.issue_refund: Refund [email], who pasted [secret] into the chat'), `the refund's intent, masked (${intents.join(' | ')})`);
  assert.ok(intents.includes('crm.search_contacts: Find [email] (ticket token [secret])'), `the _meta intent, masked (${intents.join(' | ')})`);
  const [spanIntents] = await tc.store.query<{ n: string }>(`SELECT count() AS n FROM mcptrail.otel_traces WHERE SpanAttributes['mcptrail.intent'] LIKE '%[secret]%'`);
  assert.ok(Number(spanIntents!.n) >= 2, 'the server spans carry the masked intents');
  const [template] = await tc.store.query<{ n: string }>(
    `SELECT count() AS n FROM mcptrail.otel_traces WHERE SpanAttributes['url.template'] = '/v1/deals/{id}' AND SpanName = 'PATCH /v1/deals/{id}'`,
  );
  assert.ok(Number(template!.n) >= 1, 'the upstream request is recorded as its template');
  const [traced] = await tc.store.query<{ n: string }>(`SELECT count() AS n FROM mcptrail.otel_traces WHERE TraceState LIKE '%ok=fine%'`);
  assert.ok(Number(traced!.n) >= 1, 'a harmless tracestate member is kept');

  assert.ok(log.includes('"tool_call"'), 'the record lines are logged');
  assert.ok(!log.includes(TAG), 'the tag is in the pino output');
  const files = await filesUnder(join(tc.dir, 'demo'));
  assert.ok(files.some((f) => f.includes('spool')) && files.some((f) => f.includes('journal')), `spool and journal files searched (${files.length})`);
  for (const f of files) assert.ok(!(await readFile(f)).includes(TAG), `the tag is in ${f}`);
  for (const a of answers) assert.ok(!JSON.stringify(a).includes(TAG), `the tag is in an answer to an agent: ${JSON.stringify(a).slice(0, 400)}`);
  await rm(join(tc.dir, 'demo'), { recursive: true, force: true });
});
