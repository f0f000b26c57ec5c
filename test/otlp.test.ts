/**
 * OTLP/HTTP traces receiver: payloads from the real OpenTelemetry exporters
 * (JSON and protobuf, plain and gzip) land in otel_traces exactly as the
 * OpenTelemetry Collector ClickHouse exporter would write them.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { openStore, migrate, TABLES, type Store } from '../packages/collector/src/store/index.js';
import { createCollector, type Collector } from '../packages/collector/src/collector/index.js';
import { ExportTraceServiceResponse } from '../packages/collector/src/collector/otlp/proto.js';
import { emitTrace, otlpExporter, SERVICE_NAME, type EmittedTrace, type ExporterKind } from './support/otlp-fixtures.js';

interface SpanRow {
  TraceId: string;
  SpanId: string;
  ParentSpanId: string;
  SpanName: string;
  SpanKind: string;
  ServiceName: string;
  ResourceAttributes: Record<string, string>;
  ScopeName: string;
  ScopeVersion: string;
  SpanAttributes: Record<string, string>;
  Duration: number;
  StatusCode: string;
  StatusMessage: string;
  startNs: string;
  eventNs: string[];
  'Events.Name': string[];
  'Events.Attributes': Record<string, string>[];
  'Links.TraceId': string[];
  'Links.SpanId': string[];
  'Links.TraceState': string[];
  'Links.Attributes': Record<string, string>[];
}

const INGEST_TOKEN = 'ingest-token-for-otlp-tests';

let dir: string;
let store: Store;
let collector: Collector;
let base: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mcptrail-otlp-'));
  store = await openStore({ dataDir: dir });
  await migrate(store);
  collector = await createCollector({ store, ingestToken: INGEST_TOKEN, readToken: '', batch: { maxDelayMs: 10 } });
  await collector.app.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(collector.app.server.address() as AddressInfo).port}`;
});

after(async () => {
  await collector.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

async function spansOf(traceId: string): Promise<SpanRow[]> {
  return store.query<SpanRow>(
    `SELECT *, toString(toUnixTimestamp64Nano(Timestamp)) AS startNs, arrayMap(t -> toString(toUnixTimestamp64Nano(t)), Events.Timestamp) AS eventNs
     FROM ${TABLES.otelTraces} WHERE TraceId = {traceId:String} ORDER BY Timestamp`,
    { traceId },
  );
}

function assertStoredAsExporterWouldWrite(rows: SpanRow[], emitted: EmittedTrace, label: string): void {
  assert.equal(rows.length, 2);
  const [server, client] = rows as [SpanRow, SpanRow];

  assert.equal(server.TraceId, emitted.traceId);
  assert.equal(server.SpanId, emitted.serverSpanId);
  assert.equal(server.ParentSpanId, '');
  assert.equal(server.SpanName, `tools/call ${label}`);
  assert.equal(server.SpanKind, 'Server');
  assert.equal(server.ServiceName, SERVICE_NAME);
  assert.equal(server.ResourceAttributes['service.name'], SERVICE_NAME);
  assert.equal(server.ResourceAttributes['deployment.environment'], 'test');
  assert.equal(server.ScopeName, 'mcptrail-fixtures');
  assert.equal(server.ScopeVersion, '1.2.3');
  assert.equal(server.startNs, emitted.serverStartNs.toString());
  assert.equal(BigInt(server.Duration), emitted.serverDurationNs);
  assert.equal(server.StatusCode, 'Error');
  assert.equal(server.StatusMessage, 'upstream failed');
  assert.deepEqual(server.SpanAttributes, {
    'mcp.method.name': 'tools/call',
    'gen_ai.tool.name': label,
    'jsonrpc.request.id': '7',
    'test.double': '3.25',
    'test.bool': 'true',
    'test.false': 'false',
    'test.strings': '["a","b"]',
    'test.ints': '[1,2,3]',
    'test.bools': '[true,false]',
    'test.negative': '-12',
  });
  assert.deepEqual(server['Events.Name'], ['retry']);
  assert.deepEqual(server.eventNs, [emitted.eventNs.toString()]);
  assert.deepEqual(server['Events.Attributes'], [{ attempt: '2', 'retry.reason': 'upstream 503' }]);
  assert.deepEqual(server['Links.TraceId'], [emitted.linkedTraceId]);
  assert.deepEqual(server['Links.SpanId'], [emitted.linkedSpanId]);
  assert.deepEqual(server['Links.TraceState'], ['']);
  assert.deepEqual(server['Links.Attributes'], [{ 'link.reason': 'follows' }]);

  assert.equal(client.TraceId, emitted.traceId);
  assert.equal(client.SpanId, emitted.clientSpanId);
  assert.equal(client.ParentSpanId, emitted.serverSpanId);
  assert.equal(client.SpanKind, 'Client');
  assert.equal(client.SpanName, 'GET /contacts');
  assert.equal(client.startNs, emitted.clientStartNs.toString());
  assert.equal(BigInt(client.Duration), emitted.clientDurationNs);
  assert.equal(client.StatusCode, 'Error');
  assert.equal(client.StatusMessage, '');
  assert.deepEqual(client.SpanAttributes, { 'http.response.status_code': '503' });
  assert.deepEqual(client['Events.Name'], []);
  assert.deepEqual(client['Links.TraceId'], []);
}

const VARIANTS: { kind: ExporterKind; gzip: boolean }[] = [
  { kind: 'json', gzip: false },
  { kind: 'protobuf', gzip: false },
  { kind: 'json', gzip: true },
  { kind: 'protobuf', gzip: true },
];

describe('real OTLP exporters → /v1/traces → otel_traces', () => {
  for (const { kind, gzip } of VARIANTS) {
    test(`${kind}${gzip ? ' + gzip' : ''}`, async () => {
      const label = `crm.search.${kind}${gzip ? '.gz' : ''}`;
      const exporter = otlpExporter(kind, `${base}/v1/traces`, { gzip, headers: { Authorization: `Bearer ${INGEST_TOKEN}` } });
      const emitted = await emitTrace(exporter, label);
      // The collector acknowledges after the insert: rows are there once the exporter got its answer.
      assert.deepEqual(emitted.exportResults, [0, 0]);
      assertStoredAsExporterWouldWrite(await spansOf(emitted.traceId), emitted, label);

      const lookup = await store.query<{ TraceId: string; Start: string; End: string }>(
        `SELECT TraceId, min(Start) AS Start, max(End) AS End FROM ${TABLES.otelTracesTraceIdTs} WHERE TraceId = {traceId:String} GROUP BY TraceId`,
        { traceId: emitted.traceId },
      );
      const startSecond = new Date(Number(emitted.serverStartNs / 1_000_000n)).toISOString().replace(/\.\d+Z$/, 'Z');
      assert.deepEqual(lookup, [{ TraceId: emitted.traceId, Start: startSecond, End: startSecond }]);
    });
  }

  test('without the ingest token the exporter is refused and nothing is stored', async () => {
    const exporter = otlpExporter('protobuf', `${base}/v1/traces`);
    const emitted = await emitTrace(exporter, 'no-token');
    assert.ok(emitted.exportResults.every((code) => code !== 0), 'export reported failure');
    assert.deepEqual(await spansOf(emitted.traceId), []);
  });
});

describe('OTLP/HTTP protocol details', () => {
  const auth = { authorization: `Bearer ${INGEST_TOKEN}` };
  const traceIdHex = '5b8efff798038103d269b633813fc60c';
  const spanIdHex = 'eee19b7ec3c1b174';
  const nowNs = BigInt(Date.now()) * 1_000_000n;

  test('JSON with base64 ids and snake_case field names is accepted', async () => {
    const body = {
      resource_spans: [
        {
          resource: { attributes: [{ key: 'service.name', value: { string_value: 'snake' } }] },
          scope_spans: [
            {
              spans: [
                {
                  trace_id: Buffer.from(traceIdHex, 'hex').toString('base64'),
                  span_id: Buffer.from(spanIdHex, 'hex').toString('base64'),
                  name: 'snake-span',
                  kind: 'SPAN_KIND_INTERNAL',
                  start_time_unix_nano: nowNs.toString(),
                  end_time_unix_nano: (nowNs + 1000n).toString(),
                  attributes: [
                    { key: 'big', value: { int_value: '9007199254740993' } },
                    { key: 'kv', value: { kvlist_value: { values: [{ key: 'x', value: { int_value: 1 } }] } } },
                    { key: 'raw', value: { bytes_value: Buffer.from('hi').toString('base64') } },
                  ],
                  status: { code: 'STATUS_CODE_OK' },
                },
              ],
            },
          ],
        },
      ],
    };
    const res = await fetch(`${base}/v1/traces`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    assert.deepEqual(await res.json(), {});
    const [row] = await spansOf(traceIdHex);
    assert.ok(row);
    assert.equal(row.SpanId, spanIdHex);
    assert.equal(row.ServiceName, 'snake');
    assert.equal(row.SpanKind, 'Internal');
    assert.equal(row.StatusCode, 'Ok');
    assert.equal(Number(row.Duration), 1000);
    assert.deepEqual(row.SpanAttributes, { big: '9007199254740993', kv: '{"x":1}', raw: 'aGk=' });
  });

  test('spans with invalid ids are reported as partialSuccess, the rest stored', async () => {
    const good = { traceId: 'aa'.repeat(16), spanId: 'bb'.repeat(8), name: 'good', startTimeUnixNano: nowNs.toString(), endTimeUnixNano: nowNs.toString() };
    const bad = { ...good, traceId: 'not-an-id', name: 'bad' };
    const res = await fetch(`${base}/v1/traces`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json', 'content-encoding': 'gzip' },
      body: gzipSync(JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans: [good, bad] }] }] })),
    });
    assert.equal(res.status, 200);
    const body = (await res.json()) as { partialSuccess: { rejectedSpans: string; errorMessage: string } };
    assert.equal(body.partialSuccess.rejectedSpans, '1');
    assert.match(body.partialSuccess.errorMessage, /traceId/);
    assert.equal((await spansOf('aa'.repeat(16))).length, 1);
  });

  test('protobuf answers are protobuf; garbage and unknown content types are refused', async () => {
    const empty = await fetch(`${base}/v1/traces`, { method: 'POST', headers: { ...auth, 'content-type': 'application/x-protobuf' }, body: new Uint8Array(0) });
    assert.equal(empty.status, 200);
    assert.equal(empty.headers.get('content-type'), 'application/x-protobuf');
    assert.deepEqual(ExportTraceServiceResponse.toObject(ExportTraceServiceResponse.decode(new Uint8Array(await empty.arrayBuffer()))), {});

    const garbage = await fetch(`${base}/v1/traces`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/x-protobuf' },
      body: new Uint8Array([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01]),
    });
    assert.equal(garbage.status, 400);

    const badJson = await fetch(`${base}/v1/traces`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: '{"resourceSpans": [' });
    assert.equal(badJson.status, 400);
    assert.deepEqual(await badJson.json(), { code: 3, message: 'request body is not valid JSON' });

    const text = await fetch(`${base}/v1/traces`, { method: 'POST', headers: { ...auth, 'content-type': 'text/plain' }, body: 'hello' });
    assert.equal(text.status, 415);
  });
});
