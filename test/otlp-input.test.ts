/**
 * OTLP/JSON input checked by type (issue 10 item 4): every structurally wrong
 * document is a 400 whose google.rpc.Status message names the path, never a
 * 500 or a silent 200, and stores nothing; nesting depth is bounded for JSON
 * and protobuf alike.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { TABLES } from '../packages/collector/src/store/index.js';
import protobuf from 'protobufjs';
import { countRows, startTestCollector, type TestCollector } from './support/reliability-collector.js';

const now = String(BigInt(Date.now()) * 1_000_000n);
const span = (extra: Record<string, unknown> = {}) => ({
  traceId: '5b8efff798038103d269b633813fc60c',
  spanId: 'eee19b7ec3c1b174',
  name: 'tools/call crm.search',
  startTimeUnixNano: now,
  endTimeUnixNano: now,
  ...extra,
});
const request = (spans: unknown[], scope: Record<string, unknown> = {}) => ({ resourceSpans: [{ scopeSpans: [{ ...scope, spans }] }] });

/** The OTLP/JSON text of an AnyValue `depth` arrays deep around a string (built as text: JSON.stringify recurses). */
export function nestedAnyValueJson(depth: number): string {
  return '{"arrayValue":{"values":['.repeat(depth) + '{"stringValue":"leaf"}' + ']}}'.repeat(depth);
}

/** A traces request whose one span has attribute `d` = nestedAnyValueJson(depth). */
function deepJsonRequest(depth: number): string {
  return JSON.stringify(request([span({ attributes: [{ key: 'd', value: '@' }] })])).replace('"@"', nestedAnyValueJson(depth));
}

/**
 * The same request as protobuf, written field by field (protobufjs's own encoder refuses to
 * nest as deep as an attacker may): AnyValue.arrayValue = 5, ArrayValue.values = 1, ...
 */
function deepProtoRequest(depth: number): Uint8Array {
  const message = (build: (w: protobuf.Writer) => void) => {
    const w = protobuf.Writer.create();
    build(w);
    return w.finish();
  };
  const bytesField = (w: protobuf.Writer, id: number, bytes: Uint8Array) => w.uint32((id << 3) | 2).bytes(bytes);
  let value = message((w) => w.uint32((1 << 3) | 2).string('leaf'));
  for (let i = 0; i < depth; i++) {
    const inner = value;
    value = message((w) => bytesField(w, 5, message((a) => bytesField(a, 1, inner))));
  }
  const attribute = message((w) => bytesField(w.uint32((1 << 3) | 2).string('d'), 2, value));
  const spanBytes = message((w) => {
    bytesField(w, 1, Buffer.from('5b8efff798038103d269b633813fc60c', 'hex'));
    bytesField(w, 2, Buffer.from('eee19b7ec3c1b174', 'hex'));
    w.uint32((7 << 3) | 1).fixed64(Number(BigInt(now) / 1000n) * 1000);
    bytesField(w, 9, attribute);
  });
  const scopeSpans = message((w) => bytesField(w, 2, spanBytes));
  const resourceSpans = message((w) => bytesField(w, 2, scopeSpans));
  return message((w) => bytesField(w, 1, resourceSpans));
}

const HOSTILE: { name: string; body: unknown; path: RegExp }[] = [
  { name: 'resourceSpans is a number', body: { resourceSpans: 5 }, path: /^resourceSpans: expected array/ },
  { name: 'scopeSpans is an object', body: { resourceSpans: [{ scopeSpans: {} }] }, path: /^resourceSpans\[0\]\.scopeSpans: expected array/ },
  { name: 'scopeSpans is a string', body: { resourceSpans: [{ scopeSpans: 'nope' }] }, path: /^resourceSpans\[0\]\.scopeSpans: expected array/ },
  { name: 'attributes is a number', body: request([span({ attributes: 7 })]), path: /^resourceSpans\[0\]\.scopeSpans\[0\]\.spans\[0\]\.attributes: expected array/ },
  { name: 'events is a number', body: request([span({ events: 3 })]), path: /^resourceSpans\[0\]\.scopeSpans\[0\]\.spans\[0\]\.events: expected array/ },
  { name: 'a null span', body: request([span(), null]), path: /^resourceSpans\[0\]\.scopeSpans\[0\]\.spans\[1\]: expected object/ },
  { name: 'a span that is a string', body: request(['span']), path: /^resourceSpans\[0\]\.scopeSpans\[0\]\.spans\[0\]: expected object/ },
  { name: 'resource is an array', body: { resourceSpans: [{ resource: [] }] }, path: /^resourceSpans\[0\]\.resource: expected object/ },
  { name: 'a key that is a number', body: request([span({ attributes: [{ key: 1, value: { stringValue: 'x' } }] })]), path: /spans\[0\]\.attributes\[0\]\.key: expected string/ },
  { name: 'stringValue that is a number', body: request([span({ attributes: [{ key: 'k', value: { stringValue: 1 } }] })]), path: /attributes\[0\]\.value\.stringValue: expected string/ },
  { name: 'boolValue that is a string', body: request([span({ attributes: [{ key: 'k', value: { boolValue: 'true' } }] })]), path: /attributes\[0\]\.value\.boolValue: expected boolean/ },
  { name: 'intValue that is a fraction', body: request([span({ attributes: [{ key: 'k', value: { intValue: 1.5 } }] })]), path: /attributes\[0\]\.value\.intValue: expected a 64-bit integer/ },
  { name: 'intValue out of range', body: request([span({ attributes: [{ key: 'k', value: { intValue: '9223372036854775808' } }] })]), path: /intValue: expected a 64-bit integer/ },
  { name: 'doubleValue that is an object', body: request([span({ attributes: [{ key: 'k', value: { doubleValue: {} } }] })]), path: /doubleValue: expected a number/ },
  { name: 'an AnyValue with two values', body: request([span({ attributes: [{ key: 'k', value: { stringValue: 'a', intValue: 1 } }] })]), path: /attributes\[0\]\.value: more than one of stringValue, intValue/ },
  { name: 'arrayValue.values is an object', body: request([span({ attributes: [{ key: 'k', value: { arrayValue: { values: {} } } }] })]), path: /value\.arrayValue\.values: expected array/ },
  { name: 'bytesValue that is not base64', body: request([span({ attributes: [{ key: 'k', value: { bytesValue: '%%%' } }] })]), path: /bytesValue: expected base64/ },
  { name: 'startTimeUnixNano negative', body: request([span({ startTimeUnixNano: '-1' })]), path: /spans\[0\]\.startTimeUnixNano: expected an unsigned 64-bit integer/ },
  { name: 'startTimeUnixNano not a number', body: request([span({ startTimeUnixNano: 'soon' })]), path: /spans\[0\]\.startTimeUnixNano: expected an unsigned 64-bit integer/ },
  { name: 'kind with an unknown name', body: request([span({ kind: 'SPAN_KIND_SIDEWAYS' })]), path: /spans\[0\]\.kind: unknown enum value/ },
  { name: 'status is a string', body: request([span({ status: 'ok' })]), path: /spans\[0\]\.status: expected object/ },
  { name: 'name is an array', body: request([span({ name: ['x'] })]), path: /spans\[0\]\.name: expected string/ },
  { name: 'traceId is a number', body: request([span({ traceId: 5 })]), path: /spans\[0\]\.traceId: expected string/ },
  { name: 'links[0] is null', body: request([span({ links: [null] })]), path: /spans\[0\]\.links\[0\]: expected object/ },
  { name: 'an event name is a boolean', body: request([span({ events: [{ name: true }] })]), path: /spans\[0\]\.events\[0\]\.name: expected string/ },
  { name: 'scope.version is a number', body: request([span()], { scope: { version: 2 } }), path: /scopeSpans\[0\]\.scope\.version: expected string/ },
  { name: 'snake_case and camelCase both given', body: { resourceSpans: [], resource_spans: [] }, path: /^resourceSpans: given twice/ },
  { name: 'an AnyValue nested 3,000 deep', body: deepJsonRequest(3000), path: /attributes\[0\]\.value(\.arrayValue\.values\[0\])+: nested deeper than 100 messages/ },
];

describe('structurally wrong OTLP/JSON is a 400 naming the path', () => {
  let c: TestCollector;
  before(async () => {
    c = await startTestCollector();
  });
  after(() => c.close());

  for (const { name, body, path } of HOSTILE) {
    test(name, async () => {
      const text = typeof body === 'string' ? body : JSON.stringify(body);
      const res = await fetch(`${c.base}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: text });
      const answer = (await res.json()) as { code?: number; message?: string };
      assert.equal(res.status, 400, `answered ${res.status} ${JSON.stringify(answer)}`);
      assert.equal(answer.code, 3, 'google.rpc INVALID_ARGUMENT');
      assert.match(answer.message ?? '', path);
      assert.equal(await countRows(c.store, TABLES.otelTraces), 0, 'nothing of a rejected request is stored');
    });
  }

  test('null for a field means absent (proto3 JSON); unknown fields are ignored', async () => {
    const body = { resourceSpans: [{ resource: null, scopeSpans: [{ scope: null, spans: [span({ attributes: null, events: null, status: null, futureField: { x: [1, 2] } })] }] }], extra: 1 };
    const res = await fetch(`${c.base}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), {});
    assert.equal(await countRows(c.store, TABLES.otelTraces), 1);
  });

  test('the depth bound: the deepest AnyValue protobuf allows is accepted in JSON too, one deeper is refused in both', async () => {
    // protobufjs refuses messages nested more than Reader.recursionLimit (100) deep; JSON has the same bound.
    const post = (body: Uint8Array | string) =>
      fetch(`${c.base}/v1/traces`, { method: 'POST', headers: { 'content-type': typeof body === 'string' ? 'application/json' : 'application/x-protobuf' }, body });
    let deepest = 0;
    for (let depth = 30; depth < 80; depth++) {
      const res = await post(deepProtoRequest(depth));
      await res.arrayBuffer();
      if (res.status !== 200) {
        assert.equal(res.status, 400);
        break;
      }
      deepest = depth;
    }
    assert.ok(deepest >= 30 && deepest < 79, `protobuf accepted AnyValues up to ${deepest} deep`);
    const tooDeepProto = await post(deepProtoRequest(3000));
    assert.equal(tooDeepProto.status, 400);
    assert.match(RpcStatusMessage(new Uint8Array(await tooDeepProto.arrayBuffer())), /nested deeper than 100/);
    const ok = await post(deepJsonRequest(deepest));
    assert.equal(ok.status, 200, JSON.stringify(await ok.json()));
    const tooDeep = await post(deepJsonRequest(deepest + 1));
    assert.equal(tooDeep.status, 400);
    assert.match(((await tooDeep.json()) as { message: string }).message, /nested deeper than 100 messages/);
  });
});

/** The message of a protobuf google.rpc.Status (field 2). */
function RpcStatusMessage(bytes: Uint8Array): string {
  const reader = protobuf.Reader.create(bytes);
  let message = '';
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    if (tag >>> 3 === 2) message = reader.string();
    else reader.skipType(tag & 7);
  }
  return message;
}
