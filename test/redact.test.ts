import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { z } from 'zod';
import { createAuthenticator } from '../packages/mcptrail/src/auth/index.js';
import { unwrapUntrusted } from '../packages/mcptrail/src/instrument/index.js';
import {
  CallRecordSchema,
  createLogger,
  createRecordSink,
  logError,
  looksLikeSecret,
  MAX_SUMMARY_BYTES,
  summarizeArgs,
  type CallRecord,
  type RecordSink,
} from '../packages/mcptrail/src/record/index.js';
import { AUDIENCE, ISSUER, mintHs256, standardClaims } from './support/auth-keys.js';
import { connectClient, installTracing, startMcpApp, type McpTestClient, type RunningApp } from './support/mcp-harness.js';

const CANARY = `canary-sk-live-${randomBytes(12).toString('hex')}`;

describe('summarizeArgs', () => {
  test('default: type, length and a short hash, never the value', () => {
    const s = summarizeArgs({ customer: 'Ada Lovelace', limit: 10, tags: ['a', 'b'], filter: { x: 1 }, none: null });
    const parsed = JSON.parse(s);
    assert.deepEqual(Object.keys(parsed), ['customer', 'limit', 'tags', 'filter', 'none']);
    assert.deepEqual(
      { type: parsed.customer.type, len: parsed.customer.len },
      { type: 'string', len: 12 },
    );
    assert.match(parsed.customer.sha256_8, /^[0-9a-f]{8}$/);
    assert.ok(!s.includes('Ada'));
    assert.equal(parsed.tags.type, 'array');
    assert.equal(parsed.tags.len, 2);
    assert.equal(parsed.filter.type, 'object');
    assert.equal(parsed.none.type, 'null');
  });

  test('equal values hash equally regardless of key order', () => {
    const a = JSON.parse(summarizeArgs({ f: { x: 1, y: 2 } }));
    const b = JSON.parse(summarizeArgs({ f: { y: 2, x: 1 } }));
    assert.equal(a.f.sha256_8, b.f.sha256_8);
  });

  test('allow keeps values (strings truncated to 64), drop omits fields', () => {
    const long = 'x'.repeat(100);
    const parsed = JSON.parse(summarizeArgs({ stage: 'won', limit: 5, long, note: 'private note' }, { allow: ['stage', 'limit', 'long'], drop: ['note'] }));
    assert.equal(parsed.stage.value, 'won');
    assert.equal(parsed.limit.value, 5);
    assert.equal(parsed.long.value, 'x'.repeat(64));
    assert.equal(parsed.long.len, 100);
    assert.equal(parsed.note, undefined);
  });

  test('the canary never appears: allow-listed, secret-named, nested, or as a key', () => {
    const s = summarizeArgs(
      {
        query: CANARY,
        api_key: CANARY,
        password: 'hunter2',
        nested: { deep: [`Bearer ${CANARY}`] },
        [CANARY]: 1,
      },
      { allow: ['query', 'api_key', 'password', 'nested'] },
    );
    assert.ok(!s.includes(CANARY.slice(7)), s);
    assert.ok(!s.includes('hunter2'));
    const parsed = JSON.parse(s);
    assert.equal(parsed.query.secret, true);
    assert.equal(parsed.api_key.secret, true);
    assert.equal(parsed.password.secret, true);
    assert.match(parsed.query.sha256_8, /^[0-9a-f]{8}$/);
    assert.ok(Object.keys(parsed).some((k) => /^redacted_key_[0-9a-f]{8}$/.test(k)));
  });

  test('secret shapes are detected', () => {
    const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U';
    for (const secret of [
      jwt,
      'Bearer abcdefghijklmnop',
      'sk-proj-abcdefghijklmnopqrstuv',
      'ghp_0123456789abcdefghijABCDEFGHIJ',
      'xoxb-123456789012-abcdefghij',
      'AKIAIOSFODNN7EXAMPLE',
      '4111 1111 1111 1111',
      'card 5500-0000-0000-0004 on file',
      'Zx8kQ2mP9vL4nR7tW1yB6cF3hJ5dG0sA',
      'https://user:pa55word@db.example.com/x',
    ]) {
      assert.ok(looksLikeSecret(secret), secret);
    }
    for (const benign of ['won', 'Ada Lovelace', 'deal-1234', '4111 1111 1111 1112', 'the quick brown fox jumps over the lazy dog', '2026-11-23T10:00:00Z']) {
      assert.ok(!looksLikeSecret(benign), benign);
    }
  });

  test('capped at 8 KiB with a count of omitted fields', () => {
    const args = Object.fromEntries(Array.from({ length: 400 }, (_, i) => [`field_${i}`, 'v'.repeat(100)]));
    const s = summarizeArgs(args, { allow: Object.keys(args) });
    assert.ok(Buffer.byteLength(s) <= MAX_SUMMARY_BYTES, `${Buffer.byteLength(s)} bytes`);
    const parsed = JSON.parse(s);
    assert.ok(parsed._omitted > 0);
    assert.equal(Object.keys(parsed).length - 1 + parsed._omitted, 400);
  });

  test('non-object arguments and none at all', () => {
    assert.equal(summarizeArgs(undefined), '{}');
    assert.equal(JSON.parse(summarizeArgs('plain'))._.type, 'string');
  });
});

describe('logger', () => {
  test('authorization, cookie and token fields are redacted; errors log class and code only', () => {
    const lines: string[] = [];
    const logger = createLogger({ destination: { write: (s: string) => void lines.push(s) } });
    logger.info({ req: { headers: { authorization: `Bearer ${CANARY}`, cookie: CANARY } }, token: CANARY }, 'request');
    const err = Object.assign(new Error(`db said ${CANARY}`), { code: 'E_DB' });
    logError(logger, err, 'tool_failed');
    const out = lines.join('');
    assert.ok(!out.includes(CANARY), out);
    const failed = JSON.parse(lines[1]!);
    assert.equal(failed.error_class, 'Error');
    assert.equal(failed.error_code, 'E_DB');
  });
});

describe('end to end: a canary in arguments and in a thrown error', () => {
  const SECRET = 'redact-e2e-secret-0123456789abcdef0123';
  const exporter = installTracing();
  const lines: string[] = [];
  const records: CallRecord[] = [];
  const logSink = createRecordSink({ logger: createLogger({ destination: { write: (s: string) => void lines.push(s) } }) });
  const sink: RecordSink = {
    emit: (r) => {
      records.push(CallRecordSchema.parse(r));
      logSink.emit(r);
    },
    flush: () => logSink.flush(),
    close: () => logSink.close(),
  };
  let app: RunningApp;
  let client: McpTestClient;

  before(async () => {
    app = await startMcpApp('v1', {
      authenticator: createAuthenticator({ jwt: { secret: SECRET, issuer: ISSUER, audience: AUDIENCE } }),
      sink,
      setup: {
        extra: (register) =>
          register('leaky', { query: z.string(), api_key: z.string(), note: z.string() }, async ({ api_key }) => {
            throw new Error(`upstream rejected key ${api_key}`);
          }),
      },
    });
    client = await connectClient('v1', app.url, { authorization: `Bearer ${await mintHs256(SECRET, standardClaims())}` });
  });
  after(async () => {
    await client.close();
    await app.close();
  });

  test('the canary reaches no span, log line, record or agent-visible text', async () => {
    // Allow-listed field (echo allows `text`) carrying the canary.
    const echoed = await client.callTool('echo', { text: CANARY });
    // Tool output now arrives inside an untrusted-data boundary; the content is unchanged.
    assert.equal(unwrapUntrusted(echoed.content?.[0]?.text ?? ''), CANARY, 'the tool itself still sees its input');

    const res = await client.callTool('leaky', { query: CANARY, api_key: CANARY, note: `see ${CANARY}` });
    assert.equal(res.isError, true);
    const agentText = res.content?.map((c) => c.text ?? '').join('\n') ?? '';
    assert.ok(!agentText.includes(CANARY), agentText);
    assert.match(agentText, /^Internal error \(ref [0-9a-f-]{36}\)/);

    assert.equal(records.length, 2);
    const [echoRecord, leakyRecord] = records;
    assert.equal(echoRecord!.outcome, 'ok');
    assert.equal(leakyRecord!.outcome, 'system_error');
    assert.equal(leakyRecord!.error_class, 'Error');
    assert.ok(agentText.includes(leakyRecord!.call_id), 'the agent gets the record reference');
    assert.equal(JSON.parse(echoRecord!.args_summary).text.secret, true);

    const spans = exporter.getFinishedSpans();
    assert.ok(spans.length >= 2);
    const leakySpan = spans.find((s) => s.name === 'tools/call leaky')!;
    // Answered with an isError result: the conventions' tool_error, the class in mcptrail's attribute.
    assert.equal(leakySpan.attributes['error.type'], 'tool_error');
    assert.equal(leakySpan.attributes['mcptrail.error.class'], 'Error');

    const haystacks = [
      JSON.stringify(records),
      lines.join(''),
      JSON.stringify(
        spans.map((s) => ({ name: s.name, attributes: s.attributes, events: s.events, status: s.status, links: s.links, resource: s.resource.attributes })),
      ),
    ];
    for (const h of haystacks) assert.ok(!h.includes(CANARY), h.slice(0, 400));
    // The record log line exists: one per call.
    assert.equal(lines.filter((l) => JSON.parse(l).msg === 'tool_call').length, 2);
  });
});

describe('argument summaries, repeated field names', () => {
  test('a name is judged the same on every call: secret names and secret-looking keys stay redacted', () => {
    const jwtKey = `eyJhbGciOiJIUzI1NiJ9.${'eyJzdWIiOiJ4In0'}.c2lnbmF0dXJlX3Zh`;
    const args = { query: 'acme', password: 'hunter2', [jwtKey]: 'v' };
    const first = summarizeArgs(args, { allow: ['query', 'password'] });
    for (let i = 0; i < 3; i++) assert.equal(summarizeArgs(args, { allow: ['query', 'password'] }), first);
    const parsed = JSON.parse(first) as Record<string, { value?: unknown; secret?: boolean }>;
    assert.equal(parsed.query!.value, 'acme');
    assert.equal(parsed.password!.secret, true, 'an allow-listed secret name is hashed, not kept');
    assert.equal(parsed.password!.value, undefined);
    assert.ok(!first.includes(jwtKey) && !first.includes('hunter2'), first);
    assert.ok(Object.keys(parsed).some((k) => k.startsWith('redacted_key_')), first);
    // The same name under other rules: what the rules decide is not remembered with the name.
    assert.equal((JSON.parse(summarizeArgs({ query: 'acme' })) as Record<string, { value?: unknown }>).query!.value, undefined);
  });
});
