/**
 * Seeded mutation fuzzing of every input surface, with three invariants:
 * never a 5xx for bad input, never a crash (the collector still answers),
 * never a stored row from a rejected request. Seeds are fixed, so a failure
 * reproduces; FUZZ_RUNS raises the count.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createAuthenticator } from '../packages/mcptrail/src/auth/index.js';
import { TABLES } from '../packages/collector/src/store/index.js';
import { ExportTraceServiceRequest } from '../packages/collector/src/collector/otlp/proto.js';
import { callRecord, countRows, ndjson, startTestCollector, type TestCollector } from './support/reliability-collector.js';
import { mutateBytes, mutateText, rng } from './support/reliability-fuzz.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 150);

function otlpJson(): string {
  const now = String(BigInt(Date.now()) * 1_000_000n);
  return JSON.stringify({
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'crm' } }] },
        scopeSpans: [
          {
            scope: { name: 's', version: '1' },
            spans: [
              {
                traceId: '5b8efff798038103d269b633813fc60c',
                spanId: 'eee19b7ec3c1b174',
                parentSpanId: '',
                name: 'tools/call crm.search',
                kind: 2,
                startTimeUnixNano: now,
                endTimeUnixNano: now,
                attributes: [{ key: 'a', value: { intValue: '7' } }, { key: 'b', value: { arrayValue: { values: [{ boolValue: true }] } } }],
                events: [{ timeUnixNano: now, name: 'e', attributes: [] }],
                status: { code: 2, message: 'x' },
              },
            ],
          },
        ],
      },
    ],
  });
}

describe('fuzz', () => {
  let c: TestCollector;
  before(async () => {
    c = await startTestCollector({ batch: { maxDelayMs: 2 } });
  });
  after(() => c.close());

  /** Posts one mutated body; asserts the invariants; returns the status. */
  async function probe(path: string, contentType: string, body: string | Buffer, table: string): Promise<number> {
    const before = await countRows(c.store, table);
    const res = await fetch(`${c.base}${path}`, { method: 'POST', headers: { 'content-type': contentType }, body });
    await res.arrayBuffer();
    assert.ok(res.status < 500, `${path} answered ${res.status} to ${JSON.stringify(String(body).slice(0, 2000))}`);
    if (res.status !== 200) assert.equal(await countRows(c.store, table), before, `${path}: a rejected request stored rows`);
    return res.status;
  }

  test('/v1/records NDJSON', async () => {
    const random = rng(0x5eed01);
    const seed = ndjson(Array.from({ length: 3 }, () => callRecord()));
    const statuses = new Map<number, number>();
    for (let i = 0; i < RUNS; i++) {
      let body = seed.replace(/[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}/g, () => crypto.randomUUID());
      for (let k = 0, n = 1 + Math.floor(random() * 3); k < n; k++) body = mutateText(body, random);
      // Every third run: structurally valid, hostile values (these may well be stored).
      if (i % 3 === 0) body = ndjson([callRecord({ agent_id: mutateText('agent-1', random), tenant_id: mutateText('acme', random), args_summary: mutateText('{"q":"x"}', random) })]);
      const s = await probe('/v1/records', 'application/x-ndjson', body, TABLES.toolCalls);
      statuses.set(s, (statuses.get(s) ?? 0) + 1);
    }
    assert.ok((statuses.get(400) ?? 0) > 0, 'the fuzzer reached the validator');
    assert.ok((statuses.get(200) ?? 0) > 0, 'hostile but valid values are stored');
    console.log(`# /v1/records statuses ${JSON.stringify(Object.fromEntries(statuses))}`);
  });

  test('/v1/traces JSON and protobuf', async () => {
    const random = rng(0x5eed02);
    const json = otlpJson();
    const proto = ExportTraceServiceRequest.encode(ExportTraceServiceRequest.fromObject(JSON.parse(json.replace(/"(traceId|spanId)":"([0-9a-f]*)"/g, (_m, k, v) => `"${k}":"${Buffer.from(v, 'hex').toString('base64')}"`)))).finish();
    const statuses = new Map<string, number>();
    for (let i = 0; i < RUNS; i++) {
      const s1 = await probe('/v1/traces', 'application/json', mutateText(json, random), TABLES.otelTraces);
      const s2 = await probe('/v1/traces', 'application/x-protobuf', mutateBytes(proto, random), TABLES.otelTraces);
      statuses.set(`json ${s1}`, (statuses.get(`json ${s1}`) ?? 0) + 1);
      statuses.set(`proto ${s2}`, (statuses.get(`proto ${s2}`) ?? 0) + 1);
    }
    console.log(`# /v1/traces statuses ${JSON.stringify(Object.fromEntries(statuses))}`);
  });

  test('/v1/events', async () => {
    const random = rng(0x5eed03);
    const seed = JSON.stringify({ ts: new Date().toISOString(), service: 's', instance: 'i', event: 'shipper_drop', reason: 'spool_full', count: 3 }) + '\n';
    for (let i = 0; i < RUNS; i++) await probe('/v1/events', 'application/x-ndjson', mutateText(seed, random), TABLES.pipelineEvents);
  });

  test('audit API query strings and trace ids', async () => {
    const random = rng(0x5eed04);
    const seeds = ['tool=crm.search&tenant=acme&since=15m&limit=10', 'outcome=denied&agent=a', 'since=31d&limit=1000'];
    for (let i = 0; i < RUNS; i++) {
      const q = mutateText(seeds[i % seeds.length]!, random);
      const res = await fetch(`${c.base}/api/calls?${q}`);
      await res.arrayBuffer();
      assert.ok(res.status < 500, `/api/calls?${q} answered ${res.status}`);
      const id = mutateText('5b8efff798038103d269b633813fc60c', random);
      const t = await fetch(`${c.base}/api/traces/${encodeURIComponent(id.replace(/[\ud800-\udfff]/g, ''))}`);
      await t.arrayBuffer();
      assert.ok(t.status < 500, `/api/traces/${id} answered ${t.status}`);
    }
    assert.equal((await fetch(`${c.base}/healthz`)).status, 200, 'still answering');
  });

  test('the token parser: authenticate() only ever resolves a principal or throws an AuthError', async () => {
    const random = rng(0x5eed05);
    const auth = createAuthenticator({
      jwt: { secret: 'x'.repeat(32), issuer: 'https://issuer.test', audience: 'https://mcp.test/mcp' },
      apiKeys: { 'key-0123456789abcdef': { agentId: 'a', tenantId: 't', scopes: ['crm:read'] } },
    });
    const seeds = [
      'Bearer key-0123456789abcdef',
      'Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1In0.c2lnbmF0dXJl',
      'bearer   eyJ.eyJ.x',
      'Basic dXNlcjpwYXNz',
    ];
    let accepted = 0;
    for (let i = 0; i < RUNS * 4; i++) {
      const header = mutateText(seeds[i % seeds.length]!, random);
      try {
        const p = await auth.authenticate(header);
        accepted++;
        assert.equal(p.tenantId, 't', 'only the real key authenticates');
      } catch (err) {
        assert.equal((err as Error).name, 'AuthError', `authenticate(${JSON.stringify(header)}) threw ${(err as Error).name}`);
      }
    }
    assert.ok(accepted < RUNS * 4);
  });
});
