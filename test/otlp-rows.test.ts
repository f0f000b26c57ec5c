/**
 * spansToRows serialises each row directly (shared resource/scope members
 * once per scope) instead of JSON.stringify(spanToRow(...)); the rows must be
 * byte-identical to the row objects' JSON, for well-formed and fuzzed input.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { attributesToMap, spanToRow, spansToRows, SpanRejected } from '../packages/collector/src/collector/otlp/rows.js';
import { decodeTracesRequest } from '../packages/collector/src/collector/otlp/decode.js';
import { ExportTraceServiceRequest } from '../packages/collector/src/collector/otlp/proto.js';
import { wellFormedJson } from '../packages/collector/src/collector/processors/well-formed.js';
import type { OtlpTracesRequest } from '../packages/collector/src/collector/otlp/types.js';
import { mutateBytes, mutateText, rng } from './support/reliability-fuzz.js';

/** The previous implementation: one row object per span, JSON.stringify'd. */
function reference(request: OtlpTracesRequest): { ndjson: string; accepted: number; rejected: number; firstError?: string } {
  let ndjson = '';
  let accepted = 0;
  let rejected = 0;
  let firstError: string | undefined;
  for (const rs of request.resourceSpans ?? []) {
    const resourceAttributes = attributesToMap(rs.resource?.attributes);
    const serviceName = resourceAttributes['service.name'] ?? '';
    for (const ss of rs.scopeSpans ?? []) {
      for (const span of ss.spans ?? []) {
        try {
          ndjson += wellFormedJson(JSON.stringify(spanToRow(span, serviceName, resourceAttributes, ss.scope?.name ?? '', ss.scope?.version ?? ''))) + '\n';
          accepted++;
        } catch (err) {
          if (!(err instanceof SpanRejected)) throw err;
          rejected++;
          firstError ??= err.message;
        }
      }
    }
  }
  return { ndjson, accepted, rejected, firstError };
}

const kv = (key: string, value: Record<string, unknown>) => ({ key, value });

function sample(): Record<string, unknown> {
  return {
    resourceSpans: [
      {
        resource: { attributes: [kv('service.name', { stringValue: 'crm "mcp"' }), kv('host.name', { stringValue: 'h\u00e9\ud83d\udca5' }), kv('n', { intValue: '42' })] },
        scopeSpans: [
          {
            scope: { name: 'mcptrail', version: '0.1.0' },
            spans: [
              {
                traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', parentSpanId: '00f067aa0ba902b8', traceState: 'k=v', name: 'tools/call crm.search',
                kind: 2, startTimeUnixNano: '1714557600123456789', endTimeUnixNano: '1714557600223456789',
                attributes: [kv('a', { stringValue: 'x\ud800y' }), kv('b', { boolValue: true }), kv('c', { doubleValue: 1e-7 }), kv('d', { arrayValue: { values: [{ intValue: 1 }, { stringValue: 's' }] } }), kv('e', { kvlistValue: { values: [kv('x', { boolValue: false })] } }), kv('f', { bytesValue: 'AAEC' })],
                events: [{ timeUnixNano: '1714557600123456790', name: 'exception', attributes: [kv('exception.type', { stringValue: 'Error' })] }],
                links: [{ traceId: '5bf92f3577b34da6a3ce929d0e0e4736', spanId: '10f067aa0ba902b7', traceState: '', attributes: [] }],
                status: { code: 2, message: 'boom\n"quoted"' },
              },
              { traceId: '4BF92F3577B34DA6A3CE929D0E0E4736', spanId: 'APBnqguQArc=', name: 'GET', kind: 'SPAN_KIND_CLIENT', startTimeUnixNano: 1714557600, status: { code: 'STATUS_CODE_OK' } },
              { traceId: '00000000000000000000000000000000', spanId: '00f067aa0ba902b7', name: 'bad id' },
              { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', startTimeUnixNano: '-1' },
              { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', events: [{ timeUnixNano: 'x' }] },
            ],
          },
          { spans: [{ traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', links: [{ traceId: 'zz' }] }] },
        ],
      },
      { scopeSpans: [{ scope: { name: 'other' }, spans: [{ traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', name: 'no resource' }] }] },
    ],
  };
}

/** The sample's spans that protobuf can carry, as protobuf bytes (ids as bytes, enums as numbers). */
function sampleProto(): Buffer {
  const hex = (h: string) => Buffer.from(h, 'hex');
  const spans = [
    {
      traceId: hex('4bf92f3577b34da6a3ce929d0e0e4736'), spanId: hex('00f067aa0ba902b7'), parentSpanId: hex('00f067aa0ba902b8'), traceState: 'k=v', name: 'tools/call crm.search', kind: 2,
      startTimeUnixNano: '1714557600123456789', endTimeUnixNano: '1714557600223456789',
      attributes: [kv('a', { stringValue: 'x\u00e9y' }), kv('b', { boolValue: true }), kv('c', { doubleValue: 1e-7 }), kv('i', { intValue: '-9007199254740993' }), kv('d', { arrayValue: { values: [{ intValue: 1 }, { stringValue: 's' }] } }), kv('e', { kvlistValue: { values: [kv('x', { boolValue: false })] } }), kv('f', { bytesValue: Buffer.from([0, 1, 2]) })],
      events: [{ timeUnixNano: '1714557600123456790', name: 'exception', attributes: [kv('exception.type', { stringValue: 'Error' })] }],
      links: [{ traceId: hex('5bf92f3577b34da6a3ce929d0e0e4736'), spanId: hex('10f067aa0ba902b7'), traceState: 'x' }],
      status: { code: 2, message: 'boom\n"quoted"' },
    },
    { traceId: hex('4bf92f3577b34da6a3ce929d0e0e4736'), spanId: hex('00f067aa0ba902b7'), name: 'GET', kind: 3, startTimeUnixNano: '1714557600', status: { code: 1 } },
    { traceId: hex('00000000000000000000000000000000'), spanId: hex('00f067aa0ba902b7'), name: 'bad id' },
    { traceId: hex('4bf92f3577b34da6a3ce929d0e0e4736'), spanId: hex('00f067'), name: 'short id' },
  ];
  const request = {
    resourceSpans: [
      { resource: { attributes: [kv('service.name', { stringValue: 'crm "mcp"' }), kv('host.name', { stringValue: 'h\u00e9\ud83d\udca5' })] }, scopeSpans: [{ scope: { name: 'mcptrail', version: '0.1.0' }, spans }, { spans: [spans[1]] }] },
      { scopeSpans: [{ spans: [spans[0]] }] },
    ],
  };
  return Buffer.from(ExportTraceServiceRequest.encode(ExportTraceServiceRequest.fromObject(request)).finish());
}

function same(request: OtlpTracesRequest, label: string): void {
  let expected: ReturnType<typeof reference> | Error;
  try {
    expected = reference(request);
  } catch (err) {
    expected = err as Error;
  }
  if (expected instanceof Error) {
    assert.throws(() => spansToRows(request), label);
    return;
  }
  assert.deepEqual(spansToRows(request), expected, label);
}

test('rows are byte-identical to JSON.stringify(spanToRow(...)): JSON sample, its protobuf encoding', () => {
  const json = sample();
  same(json as OtlpTracesRequest, 'json');
  const result = spansToRows(json as OtlpTracesRequest);
  assert.equal(result.accepted, 4);
  assert.equal(result.rejected, 3);
  const proto = decodeTracesRequest(sampleProto(), 'protobuf');
  same(proto, 'protobuf');
  const protoResult = spansToRows(proto);
  assert.equal(protoResult.accepted, 4);
  assert.equal(protoResult.rejected, 2);
});

test('rows are byte-identical on fuzzed OTLP/JSON and protobuf requests', () => {
  const random = rng(4242);
  const text = JSON.stringify(sample());
  let compared = 0;
  for (let i = 0; i < 3000; i++) {
    let t = text;
    for (let k = 0, n = 1 + Math.floor(random() * 3); k < n; k++) t = mutateText(t, random);
    let request: OtlpTracesRequest;
    try {
      request = decodeTracesRequest(Buffer.from(t), 'json');
    } catch {
      continue;
    }
    same(request, `json mutation ${i}`);
    compared++;
  }
  const proto = Buffer.from(ExportTraceServiceRequest.encode(ExportTraceServiceRequest.fromObject({ resourceSpans: [] })).finish());
  const seed = sampleProto();
  for (let i = 0; i < 3000; i++) {
    let request: OtlpTracesRequest;
    try {
      request = decodeTracesRequest(mutateBytes(i % 10 === 0 ? proto : seed, random), 'protobuf');
    } catch {
      continue;
    }
    same(request, `protobuf mutation ${i}`);
    compared++;
  }
  assert.ok(compared > 800, `compared ${compared}`);
});
