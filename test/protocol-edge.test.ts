/**
 * The 2026-07-28 parts the SDK clients do not exercise on their own, over
 * real HTTP: the tasks extension's lifecycle (validated with the extension's
 * official schemas), jobs audited on legacy too, the edge acting on
 * Mcp-Method/Mcp-Name before the body is read and refusing bodies that
 * disagree, Origin validation, forged or borrowed requestState, and the
 * legacy shim's server→client confirmation where the connection can carry it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Client, InMemoryTransport as ClientMemory } from '@modelcontextprotocol/client';
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as TransportV1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CancelledTaskV2Schema, CompletedTaskV2Schema, CreateTaskResultV2Schema, WorkingTaskV2Schema } from '@modelcontextprotocol/ext-tasks/core/v2';
import { McpServer, InMemoryTransport, acceptedContent, inputRequired } from '@modelcontextprotocol/server';
import { z } from 'zod';
import { instrument, unwrapUntrusted } from '../packages/mcptrail/src/instrument/index.js';
import { installTracing, memorySink } from './support/mcp-harness.js';
import { AGENTS, KEYS, modernRequest, startProtocolApp, type ProtocolApp } from './support/protocol-app.js';

const exporter = installTracing();
let app: ProtocolApp;
before(async () => {
  app = await startProtocolApp();
});
after(() => app.close());

const newRecords = (since: number) => app.sink.records.slice(since);
/** Records are emitted when a job settles, a microtask or two after its last step. */
async function recordWhere(pred: (r: (typeof app.sink.records)[number]) => boolean) {
  for (let i = 0; i < 200; i++) {
    const found = app.sink.records.find(pred);
    if (found) return found;
    await new Promise((r) => setImmediate(r));
  }
  throw new Error('no such record');
}

describe('tasks (2026-07-28 extension) and jobs (legacy)', () => {
  test('a job started by a client that declares the extension is a task: working, completed with its result, its end recorded and linked', async () => {
    const seen = app.sink.records.length;
    const started = await modernRequest(app.url, AGENTS.modern, 'tools/call', { name: 'start_report', arguments: { size: 3 } }, { name: 'start_report' });
    assert.equal(started.status, 200);
    const task = CreateTaskResultV2Schema.parse(started.body.result);
    assert.equal(task.resultType, 'task');
    const taskId = task.taskId;

    const working = await modernRequest(app.url, AGENTS.modern, 'tasks/get', { taskId }, { name: taskId });
    WorkingTaskV2Schema.parse(working.body.result);
    assert.equal(working.body.result.resultType, 'complete');

    app.releaseJobs();
    const end = await recordWhere((r) => r.record_kind === 'task' && r.task_id === taskId);
    const done = await modernRequest(app.url, AGENTS.modern, 'tasks/get', { taskId }, { name: taskId });
    const completed = CompletedTaskV2Schema.parse(done.body.result);
    assert.deepEqual((completed.result as { structuredContent?: unknown }).structuredContent, { rows: 3 });

    const start = newRecords(seen).find((r) => r.tool === 'start_report' && r.record_kind === 'call')!;
    assert.equal(start.task_id, taskId, 'the starting call names its task');
    assert.equal(end.outcome, 'ok');
    assert.equal(end.trace_id, start.trace_id, 'one trace');
    assert.equal(end.protocol_version, '2026-07-28');
    assert.equal(end.client_name, 'raw-client');
    assert.notEqual(end.call_id, start.call_id);
    const taskSpan = exporter.getFinishedSpans().find((s) => s.spanContext().spanId === end.span_id)!;
    assert.equal(taskSpan.name, 'task start_report');
    assert.equal(taskSpan.parentSpanContext?.spanId, start.span_id, 'the task span is a child of the starting call');
    assert.equal(taskSpan.attributes['mcptrail.task_id'], taskId);
  });

  test('tasks/cancel: the task ends cancelled, recorded; another agent cannot see or cancel it; a client without the extension is refused', async () => {
    const started = await modernRequest(app.url, AGENTS.modern, 'tools/call', { name: 'start_report', arguments: {} }, { name: 'start_report' });
    const taskId = CreateTaskResultV2Schema.parse(started.body.result).taskId;

    const stranger = await modernRequest(app.url, AGENTS.auto, 'tasks/cancel', { taskId }, { name: taskId });
    assert.equal(stranger.body.error?.code, -32602, 'another agent\'s task reads as unknown');
    const undeclared = await modernRequest(app.url, AGENTS.modern, 'tasks/get', { taskId }, { name: taskId, capabilities: {} });
    assert.equal(undeclared.body.error?.code, -32021);

    const cancel = await modernRequest(app.url, AGENTS.modern, 'tasks/cancel', { taskId }, { name: taskId });
    assert.deepEqual(cancel.body.result?.resultType, 'complete');
    const end = await recordWhere((r) => r.record_kind === 'task' && r.task_id === taskId);
    assert.equal(end.outcome, 'cancelled');
    const after = await modernRequest(app.url, AGENTS.modern, 'tasks/get', { taskId }, { name: taskId });
    CancelledTaskV2Schema.parse(after.body.result);
  });

  test('without the extension (here a legacy client) the same job answers a job id, polled with get_job_status; its end is recorded too', async () => {
    const client = new ClientV1({ name: 'legacy-jobs', version: '1.0.0' });
    await client.connect(new TransportV1(new URL(app.url), { requestInit: { headers: { authorization: `Bearer ${KEYS[AGENTS.legacy]}` } } }));
    const res = (await client.callTool({ name: 'start_report', arguments: { size: 2 } })) as { structuredContent?: { job_id?: string } };
    const jobId = res.structuredContent!.job_id!;
    app.releaseJobs();
    const end = await recordWhere((r) => r.record_kind === 'task' && r.task_id === jobId);
    assert.equal(end.outcome, 'ok');
    assert.equal(end.protocol_version, '2025-11-25');
    const status = (await client.callTool({ name: 'get_job_status', arguments: { job_id: jobId } })) as { structuredContent?: { state?: string } };
    assert.equal(status.structuredContent?.state, 'succeeded');
    await client.close();
  });
});

describe('the edge reads 2026-07-28 headers', () => {
  test('a tools/call out of scope is refused from Mcp-Name before its body is read (an unparsable body never gets parsed)', async () => {
    const seen = app.sink.records.length;
    const res = await fetch(app.url, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${KEYS[AGENTS.reader]}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': '2026-07-28',
        'mcp-method': 'tools/call',
        'mcp-name': 'admin_reset',
      },
      body: '{"this is": not json',
    });
    assert.equal(res.status, 403, 'the scope answer, not the parser\'s 400');
    assert.match(res.headers.get('www-authenticate') ?? '', /insufficient_scope/);
    const [r, ...more] = newRecords(seen);
    assert.equal(more.length, 0);
    assert.deepEqual([r!.tool, r!.outcome, r!.mcp_method, r!.calls_in_request, r!.request_id, r!.protocol_version], ['admin_reset', 'denied', 'tools/call', 1, '', '2026-07-28']);
  });

  test('a body that is not the call its headers announced is refused (-32020) and recorded; nothing runs', async () => {
    const seen = app.sink.records.length;
    const res = await modernRequest(app.url, AGENTS.modern, 'tools/call', { name: 'admin_reset', arguments: {} }, { name: 'echo' });
    assert.equal(res.status, 400);
    assert.equal(res.body.error.code, -32020);
    const [r, ...more] = newRecords(seen);
    assert.equal(more.length, 0, 'one record, and admin_reset did not run');
    assert.deepEqual([r!.tool, r!.outcome, r!.error_class, r!.client_name], ['admin_reset', 'denied', 'HeaderMismatch', 'raw-client']);
  });

  test('the SDK\'s own header refusal (a tools/call without Mcp-Name) gets its record', async () => {
    const seen = app.sink.records.length;
    const res = await modernRequest(app.url, AGENTS.modern, 'tools/call', { name: 'echo', arguments: { text: 'x' } });
    assert.equal(res.status, 400);
    assert.equal(res.body.error.code, -32020);
    const [r, ...more] = newRecords(seen);
    assert.equal(more.length, 0);
    assert.deepEqual([r!.tool, r!.outcome, r!.error_class], ['echo', 'denied', 'HeaderMismatch']);
  });

  test('a request from a disallowed Origin is answered 403 and recorded; localhost passes; unauthenticated ones are counted, not recorded one by one', async () => {
    const seen = app.sink.records.length;
    const evil = await modernRequest(app.url, AGENTS.modern, 'tools/call', { name: 'echo', arguments: { text: 'x' } }, { name: 'echo', headers: { origin: 'http://evil.example' } });
    assert.equal(evil.status, 403);
    const [r, ...more] = newRecords(seen);
    assert.equal(more.length, 0);
    assert.deepEqual([r!.outcome, r!.error_class, r!.error_code, r!.agent_id], ['denied', 'OriginError', 'origin_not_allowed', AGENTS.modern]);

    const local = await modernRequest(app.url, AGENTS.modern, 'tools/call', { name: 'echo', arguments: { text: 'x' } }, { name: 'echo', headers: { origin: 'http://localhost:5173' } });
    assert.equal(local.status, 200);

    const before = app.sink.records.length;
    const anonymous = await fetch(app.url, { method: 'POST', headers: { origin: 'http://evil.example', 'content-type': 'application/json' }, body: '{}' });
    assert.equal(anonymous.status, 403);
    assert.equal(app.sink.records.length, before, 'counted in the per-minute summary instead');
  });
});

describe('multi-round-trip state', () => {
  test('a forged requestState is refused and recorded denied; one minted for another agent too; nothing is paid', async () => {
    const paid = app.payments.length;
    const first = await modernRequest(app.url, AGENTS.modern, 'tools/call', { name: 'pay', arguments: { amount: 77 } }, { name: 'pay', capabilities: { elicitation: {} } });
    assert.equal(first.body.result.resultType, 'input_required');
    const state = first.body.result.requestState as string;
    assert.match(state, /^v1\./, 'sealed with the SDK codec');
    const answers = { confirm: { action: 'accept', content: { confirm: true } } };

    for (const [agentId, requestState] of [
      [AGENTS.modern, JSON.stringify({ amount: 77 })],
      [AGENTS.modern, state.slice(0, -2) + (state.endsWith('A') ? 'BB' : 'AA')],
      [AGENTS.auto, state],
    ] as const) {
      const seen = app.sink.records.length;
      const retry = await modernRequest(app.url, agentId, 'tools/call', { name: 'pay', arguments: { amount: 77 }, requestState, inputResponses: answers }, { name: 'pay', capabilities: { elicitation: {} } });
      assert.equal(retry.body.result.isError, true);
      const [r] = newRecords(seen);
      assert.deepEqual([r!.outcome, r!.error_code], ['denied', 'invalid_request_state'], `${agentId} ${requestState.slice(0, 12)}`);
    }
    assert.equal(app.payments.length, paid);

    // The genuine state from the same agent is the second round of the first call's logical call.
    const seen = app.sink.records.length;
    const retry = await modernRequest(app.url, AGENTS.modern, 'tools/call', { name: 'pay', arguments: { amount: 77 }, requestState: state, inputResponses: answers }, { name: 'pay', capabilities: { elicitation: {} } });
    assert.equal(unwrapUntrusted(retry.body.result.content[0].text), 'paid 77');
    const [r] = newRecords(seen);
    assert.equal(r!.round, 2);
  });

  test('a client that does not declare elicitation is told so, not asked', async () => {
    const res = await modernRequest(app.url, AGENTS.modern, 'tools/call', { name: 'pay', arguments: { amount: 5 } }, { name: 'pay', capabilities: {} });
    assert.equal(res.body.result.isError, true);
    assert.equal(res.body.result.structuredContent.input_unavailable, true);
  });

  test('on a legacy connection that declared elicitation (here in memory), the SDK asks the client itself: two rounds, one logical call', async () => {
    const sink = memorySink();
    const server = instrument(new McpServer({ name: 'shim', version: '1.0.0' }), { service: 'shim', sink, tools: { pay: { kind: 'write' } } });
    server.registerTool('pay', { inputSchema: z.object({ amount: z.number() }) }, async ({ amount }, ctx) => {
      if (ctx.mcpReq.requestState() !== 'asked') {
        return inputRequired({ inputRequests: { confirm: inputRequired.elicit({ message: 'Pay?', requestedSchema: z.object({ confirm: z.boolean() }) }) }, requestState: 'asked' });
      }
      return acceptedContent(ctx.mcpReq.inputResponses, 'confirm')?.confirm === true ? { content: [{ type: 'text', text: `paid ${amount}` }] } : { content: [], isError: true };
    });
    const client = new Client({ name: 'legacy-in-memory', version: '1.0.0' }, { capabilities: { elicitation: {} } });
    let asked = 0;
    client.setRequestHandler('elicitation/create', async () => {
      asked++;
      return { action: 'accept', content: { confirm: true } };
    });
    const [a, b] = InMemoryTransport.createLinkedPair();
    await server.connect(b);
    await client.connect(a as unknown as InstanceType<typeof ClientMemory>);
    assert.equal(client.getProtocolEra(), 'legacy');
    const res = (await client.callTool({ name: 'pay', arguments: { amount: 9 } })) as { content: { text: string }[] };
    assert.equal(unwrapUntrusted(res.content[0]!.text), 'paid 9');
    assert.equal(asked, 1, 'the server asked the client over the connection');
    assert.deepEqual(sink.records.map((r) => [r.outcome, r.round, r.client_name]), [['input_required', 1, 'legacy-in-memory'], ['ok', 2, 'legacy-in-memory']]);
    assert.equal(sink.records[1]!.logical_call_id, sink.records[0]!.call_id);
    await client.close();
    await server.close();
  });
});
