/**
 * spansToRows on its own: the same spans sent as OTLP/JSON and as protobuf
 * give byte-identical rows; spans with empty ids are kept with `''` ids, as
 * the exporter stores them; and every request the decoder accepts, however
 * mutated, maps to rows the engine takes (one bad row would fail the whole
 * insert block, and with it every request sharing the batch).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spansToRows } from '../packages/collector/src/collector/otlp/rows.js';
import { OtlpDecodeError, decodeTracesRequest } from '../packages/collector/src/collector/otlp/decode.js';
import { ExportTraceServiceRequest } from '../packages/collector/src/collector/otlp/proto.js';
import { openStore, migrate, TABLES, type Store } from '../packages/collector/src/store/index.js';
import { mutateBytes, mutateText, mutateType, rng } from './support/reliability-fuzz.js';

const kv = (key: string, value: Record<string, unknown>) => ({ key, value });
const hex = (h: string) => Buffer.from(h, 'hex');

/** Spans in OTLP/JSON form; `ids` turns hex ids into what the encoding carries. */
function sample(ids: (h: string) => unknown): Record<string, unknown> {
  const spans = [
    {
      traceId: ids('4bf92f3577b34da6a3ce929d0e0e4736'), spanId: ids('00f067aa0ba902b7'), parentSpanId: ids('00f067aa0ba902b8'), traceState: 'k=v', name: 'tools/call crm.search', kind: 2,
      startTimeUnixNano: '1714557600123456789', endTimeUnixNano: '1714557600223456789',
      attributes: [kv('z', { stringValue: 'x\u00e9y' }), kv('b', { boolValue: true }), kv('c', { doubleValue: 1e-7 }), kv('10', { intValue: '-9007199254740993' }), kv('9', { arrayValue: { values: [{ intValue: '9007199254740993' }, { stringValue: 's' }, { doubleValue: 1e21 }] } }), kv('e', { kvlistValue: { values: [kv('y', { boolValue: false }), kv('x', {})] } })],
      events: [{ timeUnixNano: '1714557600123456790', name: 'exception', attributes: [kv('exception.type', { stringValue: 'Error' })] }],
      links: [{ traceId: ids('5bf92f3577b34da6a3ce929d0e0e4736'), spanId: ids('10f067aa0ba902b7'), traceState: 'x', attributes: [kv('k', { intValue: '1' })] }],
      status: { code: 2, message: 'boom\n"quoted"' },
    },
    { traceId: ids('4bf92f3577b34da6a3ce929d0e0e4736'), spanId: ids('00f067aa0ba902b9'), name: 'GET', kind: 3, startTimeUnixNano: '1714557600', status: { code: 1 } },
    { traceId: ids('00000000000000000000000000000000'), spanId: ids('00f067aa0ba902ba'), name: 'all-zero trace id' },
    { spanId: ids('00f067aa0ba902bb'), name: 'no trace id' },
    { traceId: ids('4bf92f3577b34da6a3ce929d0e0e4736'), name: 'no span id', parentSpanId: ids('0000000000000000') },
    { traceId: ids('4bf92f3577b34da6a3ce929d0e0e4736'), spanId: ids('00f067'), name: 'short span id' },
    { traceId: ids('4bf92f3577b34da6a3ce929d0e0e4736'), spanId: ids('00f067aa0ba902bc'), startTimeUnixNano: '9223372036854775808', name: 'after 2262' },
  ];
  return {
    resourceSpans: [
      { resource: { attributes: [kv('service.name', { stringValue: 'crm "mcp"' }), kv('host.name', { stringValue: 'h\u00e9\ud83d\udca5' })] }, scopeSpans: [{ scope: { name: 'mcptrail', version: '0.1.0' }, spans }] },
      { scopeSpans: [{ spans: [spans[1]] }] },
    ],
  };
}

const jsonBody = () => Buffer.from(JSON.stringify(sample((h) => h)));
const protoBody = () => Buffer.from(ExportTraceServiceRequest.encode(ExportTraceServiceRequest.fromObject(sample(hex))).finish());

let dir: string;
let store: Store;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mcptrail-otlp-rows-'));
  store = await openStore({ dataDir: dir, url: '' });
  await migrate(store);
});
after(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

test('JSON and protobuf give the same rows; empty ids are kept as the exporter keeps them, malformed ones refused', async () => {
  const fromJson = spansToRows(decodeTracesRequest(jsonBody(), 'json'));
  const fromProto = spansToRows(decodeTracesRequest(protoBody(), 'protobuf'));
  assert.deepEqual(fromProto, fromJson);
  assert.equal(fromJson.accepted, 6);
  assert.equal(fromJson.rejected, 2, 'the short span id and the time after 2262');

  await store.insertNDJSON(TABLES.otelTraces, fromJson.ndjson);
  const rows = await store.query<{ SpanName: string; TraceId: string; SpanId: string; ParentSpanId: string; attrs: [string, string][]; events: [string, string][][]; ServiceName: string }>(
    `SELECT SpanName, TraceId, SpanId, ParentSpanId, CAST(SpanAttributes, 'Array(Tuple(String, String))') AS attrs,
            arrayMap(m -> CAST(m, 'Array(Tuple(String, String))'), Events.Attributes) AS events, ServiceName
     FROM ${TABLES.otelTraces} ORDER BY SpanName`,
  );
  const byName = new Map(rows.map((r) => [r.SpanName, r]));
  assert.equal(byName.get('all-zero trace id')?.TraceId, '');
  assert.equal(byName.get('no trace id')?.TraceId, '');
  assert.equal(byName.get('no span id')?.SpanId, '');
  assert.equal(byName.get('no span id')?.ParentSpanId, '', 'an all-zero parent is no parent');
  const search = byName.get('tools/call crm.search')!;
  assert.equal(search.ServiceName, 'crm "mcp"');
  // Keys in byte order ('10' < '9' < 'b'), values as pdata AsString.
  assert.deepEqual(search.attrs, [
    ['10', '-9007199254740993'],
    ['9', '[9007199254740993,"s",1e+21]'],
    ['b', 'true'],
    ['c', '1e-7'],
    ['e', '{"x":null,"y":false}'],
    ['z', 'x\u00e9y'],
  ]);
  assert.deepEqual(search.events, [[['exception.type', 'Error']]]);
  const lookup = await store.query<{ n: number }>(`SELECT count() AS n FROM ${TABLES.otelTracesTraceIdTs} WHERE TraceId = ''`);
  assert.equal(Number(lookup[0]!.n), 0, 'spans without a trace id stay out of the trace-id lookup, as the exporter view has it');
});

test('every mutated request the decoder accepts maps to rows the engine takes', async () => {
  const random = rng(4242);
  const text = jsonBody().toString();
  const proto = protoBody();
  const seed = JSON.parse(text);
  let accepted = 0;
  let refused = 0;
  let pending = '';
  for (let i = 0; i < 3000; i++) {
    let body: Buffer;
    let encoding: 'json' | 'protobuf';
    if (i % 3 === 0) {
      body = mutateBytes(proto, random);
      encoding = 'protobuf';
    } else if (i % 3 === 1) {
      let t = text;
      for (let k = 0, n = 1 + Math.floor(random() * 3); k < n; k++) t = mutateText(t, random);
      body = Buffer.from(t);
      encoding = 'json';
    } else {
      body = Buffer.from(JSON.stringify(mutateType(structuredClone(seed), random)));
      encoding = 'json';
    }
    let ndjson: string;
    try {
      ndjson = spansToRows(decodeTracesRequest(body, encoding)).ndjson;
    } catch (err) {
      assert.ok(err instanceof OtlpDecodeError, `mutation ${i} threw ${(err as Error).name}: ${(err as Error).message}`);
      refused++;
      continue;
    }
    accepted++;
    pending += ndjson;
    if (i % 100 === 99) {
      await store.insertNDJSON(TABLES.otelTraces, pending);
      pending = '';
    }
  }
  if (pending) await store.insertNDJSON(TABLES.otelTraces, pending);
  assert.ok(accepted > 500 && refused > 500, `accepted ${accepted}, refused ${refused}`);
});
