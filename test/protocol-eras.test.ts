/**
 * MCP 2026-07-28 beside the legacy revisions, on one endpoint, with the
 * official clients: v2 pinned to 2026-07-28, v2 `auto` (which negotiates the
 * new revision through server/discover), and v1 (legacy). For each: calls,
 * denied calls, filtered lists, idempotent replays, the confirmation round
 * trip, rate limits at the edge, and what the records and spans say.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { SpanStatusCode } from '@opentelemetry/api';
import { unwrapUntrusted } from '../packages/mcptrail/src/instrument/index.js';
import { installTracing } from './support/mcp-harness.js';
import { AGENT_BUDGET, AGENTS, eraClient, startProtocolApp, type ClientMode, type ProtocolApp } from './support/protocol-app.js';

const exporter = installTracing();
let app: ProtocolApp;
before(async () => {
  app = await startProtocolApp();
});
after(() => app.close());

const MODES: { mode: ClientMode; agent: string; version: string; client: string }[] = [
  { mode: 'pinned', agent: AGENTS.modern, version: '2026-07-28', client: 'pinned-client' },
  { mode: 'auto', agent: AGENTS.auto, version: '2026-07-28', client: 'auto-client' },
  { mode: 'legacy-v1', agent: AGENTS.legacy, version: '2025-11-25', client: 'legacy-client' },
];

const recordsOf = (agent: string) => app.sink.records.filter((r) => r.agent_id === agent);
const serverSpan = (callId: string) => exporter.getFinishedSpans().find((s) => s.attributes['mcptrail.call_id'] === callId && s.name.startsWith('tools/call'));

for (const { mode, agent, version, client: clientName } of MODES) {
  describe(`${mode} client (${version})`, () => {
    test('a call: one record with the revision, the client and the method; the span follows the MCP conventions', async () => {
      const client = await eraClient(mode, app.url, agent);
      const res = await client.callTool('echo', { text: 'ada' });
      assert.equal(unwrapUntrusted(res.content?.[0]?.text ?? ''), 'ada');
      await client.close();
      const [r, ...more] = recordsOf(agent).filter((x) => x.tool === 'echo');
      assert.equal(more.length, 0);
      assert.equal(r!.outcome, 'ok');
      assert.equal(r!.protocol_version, version);
      assert.equal(r!.client_name, clientName, 'a stateless legacy call is named after the client of the principal\'s initialize');
      assert.match(r!.client_version, /^\d+\.\d+\.\d+$/);
      assert.equal(r!.mcp_method, 'tools/call');
      assert.equal(r!.logical_call_id, r!.call_id);
      assert.equal(r!.round, 1);
      const span = serverSpan(r!.call_id)!;
      assert.equal(span.attributes['mcp.protocol.version'], version);
      assert.equal(span.attributes['network.protocol.name'], 'http');
      assert.equal(span.attributes['network.protocol.version'], '1.1');
      assert.equal(span.attributes['client.address'], '127.0.0.1');
      assert.equal(typeof span.attributes['client.port'], 'number');
      assert.equal(span.attributes['jsonrpc.request.id'], r!.request_id);
      assert.equal(span.status.code, SpanStatusCode.UNSET);
    });

    test('lists show only what the token allows; a hidden tool is still refused and recorded denied', async () => {
      const seen = recordsOf(AGENTS.reader).length;
      const reader = await eraClient(mode, app.url, AGENTS.reader);
      const tools = await reader.listTools();
      assert.ok(tools.includes('echo'));
      assert.ok(!tools.includes('admin_reset') && !tools.includes('pay'), `hidden: ${tools}`);
      // Refused at the edge (403): the SDK clients raise it.
      await assert.rejects(reader.callTool('admin_reset'));
      await reader.close();
      const denied = recordsOf(AGENTS.reader).slice(seen).filter((r) => r.tool === 'admin_reset');
      assert.equal(denied.length, 1);
      assert.equal(denied[0]!.outcome, 'denied');
      assert.equal(denied[0]!.error_code, 'insufficient_scope');
      assert.equal(denied[0]!.protocol_version, version);
      // 2026-07-28: refused from the headers, before the body (and its clientInfo) was read.
      assert.equal(denied[0]!.client_name, version === '2026-07-28' ? '' : clientName);
      const span = exporter.getFinishedSpans().find((s) => s.attributes['mcptrail.call_id'] === denied[0]!.call_id)!;
      assert.equal(span.attributes['rpc.response.status_code'], '-32003');
      assert.equal(span.status.code, SpanStatusCode.ERROR);
    });

    test(mode === 'legacy-v1' ? 'a confirmation cannot reach a stateless legacy client: refused plainly, nothing done, one record' : 'a confirmation round trip through the client\'s own auto-fulfilment: one logical call, two rounds, one trace; a replay runs nothing', async () => {
      const before = app.payments.length;
      const client = await eraClient(mode, app.url, agent);
      const amount = mode === 'pinned' ? 1500 : mode === 'auto' ? 2500 : 3500;
      const res = await client.callTool('pay', { amount });
      const rounds = recordsOf(agent).filter((r) => r.tool === 'pay');
      if (mode === 'legacy-v1') {
        assert.equal(res.isError, true);
        assert.match(res.content?.[0]?.text ?? '', /needs the client's input \("confirm"\).*Nothing was done/s);
        assert.equal(app.payments.length, before);
        assert.deepEqual(rounds.map((r) => [r.outcome, r.error_code, r.round]), [['tool_error', 'client_cannot_answer', 1]]);
        await client.close();
        return;
      }
      assert.equal(unwrapUntrusted(res.content?.[0]?.text ?? ''), `paid ${amount}`);
      assert.deepEqual(app.payments.slice(before), [amount]);
      assert.deepEqual(rounds.map((r) => [r.outcome, r.round]), [['input_required', 1], ['ok', 2]]);
      const [first, second] = rounds;
      assert.equal(second!.logical_call_id, first!.call_id, 'the second round continues the first one\'s logical call');
      assert.equal(second!.trace_id, first!.trace_id, 'one trace');
      assert.notEqual(second!.request_id, '');
      assert.deepEqual(JSON.parse(first!.input_requests_summary), {
        confirm: { method: 'elicitation/create', mode: 'form', message: { type: 'string', len: `Pay ${amount}?`.length, sha256_8: JSON.parse(first!.input_requests_summary).confirm.message.sha256_8 }, fields: ['confirm'] },
      });
      assert.ok(!first!.input_requests_summary.includes(String(amount)), 'the question is redacted like arguments');
      assert.deepEqual(JSON.parse(second!.input_responses_summary), { confirm: { action: 'accept', content: { confirm: { type: 'boolean', len: 0, value: true } } } });
      assert.equal(serverSpan(second!.call_id)!.attributes['mcptrail.round'], 2);

      // The same payment again: answered from the idempotency store, nothing paid twice.
      const again = await client.callTool('pay', { amount });
      assert.equal(unwrapUntrusted(again.content?.[0]?.text ?? ''), `paid ${amount}`);
      assert.deepEqual(app.payments.slice(before), [amount]);
      const replays = recordsOf(agent).filter((r) => r.tool === 'pay' && r.idempotent_replay);
      assert.equal(replays.length, 1);
      await client.close();
    });

    // A stateless legacy client gets no confirmation to decline (the test above holds it to a plain refusal).
    if (mode !== 'legacy-v1') test('a declined confirmation is a tool error of the second round', async () => {
      const client = await eraClient(mode, app.url, agent, { confirm: false });
      const before = app.payments.length;
      const res = await client.callTool('pay', { amount: mode === 'pinned' ? 10 : 20 });
      assert.equal(res.isError, true);
      assert.equal(app.payments.length, before);
      const last = recordsOf(agent).at(-1)!;
      assert.deepEqual([last.outcome, last.round], ['tool_error', 2]);
      await client.close();
    });

    test('past the agent budget the edge answers 429 and records it', async () => {
      const client = await eraClient(mode, app.url, agent);
      let refused = false;
      for (let i = 0; i < AGENT_BUDGET + 1 && !refused; i++) {
        await client.callTool('echo', { text: `n${i}` }).catch(() => (refused = true));
      }
      await client.close();
      assert.ok(refused, 'an echo was refused');
      const limited = recordsOf(agent).filter((r) => r.outcome === 'rate_limited');
      assert.equal(limited.length, 1);
      assert.equal(limited[0]!.rate_limit_budget, 'agent');
      assert.equal(limited[0]!.protocol_version, version);
      // 2026-07-28: decided from Mcp-Name before the body was read (no request id known); legacy: from the body.
      assert.equal(limited[0]!.request_id === '', version === '2026-07-28');
    });
  });
}
