import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, test } from 'node:test';
import { CallRecordSchema, createShipper, emptyRecord, type CallRecord } from '../packages/mcptrail/src/record/index.js';
import { createHttpBatchTransport } from '../packages/mcptrail/src/record/transport.js';
import { until } from './support/until.js';

interface Received {
  headers: http.IncomingHttpHeaders;
  records: CallRecord[];
}

/** A real collector stand-in: answers from a scripted list of statuses, then 200. */
function startCollector() {
  const batches: Received[] = [];
  const events: Record<string, unknown>[] = [];
  let script: { status: number; headers?: Record<string, string> }[] = [];
  const server = http.createServer(async (req, res) => {
    let body = '';
    for await (const chunk of req) body += chunk;
    if (req.url === '/v1/events') {
      // Drop reports (shipper_drop pipeline events): acknowledged, kept apart from records.
      events.push(...body.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>));
      res.writeHead(200).end('{}');
      return;
    }
    const next = script.shift();
    if (next && next.status !== 200) {
      res.writeHead(next.status, next.headers).end();
      return;
    }
    const records = body
      .split('\n')
      .filter(Boolean)
      .map((line) => CallRecordSchema.parse(JSON.parse(line)));
    batches.push({ headers: req.headers, records });
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"accepted":true}');
  });
  return {
    batches,
    events,
    script: (s: typeof script) => void (script = s),
    listen: () => new Promise<string>((r) => server.listen(0, '127.0.0.1', () => r(`http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/records`))),
    close: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))),
  };
}

function record(): CallRecord {
  return { ...emptyRecord(), call_id: randomUUID(), ts: new Date().toISOString(), tool: 'crm.search', outcome: 'ok' };
}

const shippedIds = (batches: Received[]) => batches.flatMap((b) => b.records.map((r) => r.call_id));

describe('shipper', () => {
  const collector = startCollector();
  let url: string;
  before(async () => {
    url = await collector.listen();
  });
  after(() => collector.close());
  beforeEach(() => {
    collector.batches.length = 0;
    collector.events.length = 0;
    collector.script([]);
  });

  test('records arrive as NDJSON batches of at most maxBatch, with the ingest token', async () => {
    const shipper = createShipper({ url, token: 'ingest-token-1', maxBatch: 500, flushIntervalMs: 20 });
    const sent = Array.from({ length: 1200 }, record);
    for (const r of sent) shipper.enqueue(r);
    assert.equal(await shipper.flush(), true);
    assert.deepEqual(collector.batches.map((b) => b.records.length).sort((a, b) => b - a), [500, 500, 200]);
    for (const b of collector.batches) {
      assert.equal(b.headers['content-type'], 'application/x-ndjson');
      assert.equal(b.headers.authorization, 'Bearer ingest-token-1');
    }
    assert.deepEqual(shippedIds(collector.batches), sent.map((r) => r.call_id));
    assert.deepEqual(collector.batches[0]!.records[0], sent[0]);
    const stats = shipper.stats();
    assert.equal(stats.shipped, 1200);
    assert.equal(stats.queued, 0);
    await shipper.close();
  });

  test('steady traffic: records queued during a send wait for the next batch, not a request of their own', async () => {
    // sendAt is 500: the 500th record starts a send; the 3 queued while it is in flight must wait for
    // the interval (60 s here) or a flush, instead of being posted the moment the first batch is acknowledged.
    const real = createHttpBatchTransport({ url });
    let sends = 0;
    const shipper = createShipper({ url, flushIntervalMs: 60_000, transport: { send: (lines) => (sends++, real.send(lines)) } });
    for (let i = 0; i < 503; i++) shipper.enqueue(record());
    assert.equal(sends, 1, 'the 500th record started one send');
    await until('the first batch acknowledged', async () => (shipper.stats().shipped >= 500 ? true : undefined));
    assert.equal(sends, 1, 'no second request for the 3 records that arrived meanwhile');
    assert.equal(shipper.stats().queued, 3);
    assert.equal(await shipper.flush(), true);
    assert.equal(sends, 2);
    assert.deepEqual(collector.batches.map((b) => b.records.length), [500, 3]);
    await shipper.close();
  });

  test('503 twice then 200: every record arrives exactly once', async () => {
    collector.script([{ status: 503 }, { status: 503 }]);
    const shipper = createShipper({ url, flushIntervalMs: 10, retryBaseMs: 20 });
    const sent = Array.from({ length: 50 }, record);
    for (const r of sent) shipper.enqueue(r);
    assert.equal(await shipper.flush(), true);
    assert.deepEqual(shippedIds(collector.batches), sent.map((r) => r.call_id));
    assert.equal(shipper.stats().retries, 2);
    assert.equal(collector.batches[0]!.headers.authorization, undefined, 'no token configured → no Authorization');
    await shipper.close();
  });

  test('429 with Retry-After is honoured', async () => {
    collector.script([{ status: 429, headers: { 'retry-after': '1' } }]);
    const shipper = createShipper({ url, flushIntervalMs: 10, retryBaseMs: 1 });
    const started = Date.now();
    shipper.enqueue(record());
    assert.equal(await shipper.flush(), true);
    assert.ok(Date.now() - started >= 950, `retried after ${Date.now() - started} ms`);
    assert.equal(shippedIds(collector.batches).length, 1);
    await shipper.close();
  });

  test('a non-retryable answer drops the batch and counts it', async () => {
    collector.script([{ status: 400 }]);
    const shipper = createShipper({ url, flushIntervalMs: 10 });
    shipper.enqueue(record());
    await shipper.flush();
    assert.equal(shipper.stats().rejected, 1);
    assert.equal(collector.batches.length, 0);
    await shipper.flush();
    assert.deepEqual(collector.events.map((e) => [e.event, e.reason, e.count]), [['shipper_drop', 'rejected', 1]]);
    await shipper.close();
  });

  test('close() ships what is left, then drops and counts later records', async () => {
    const shipper = createShipper({ url, flushIntervalMs: 60_000 });
    const sent = Array.from({ length: 7 }, record);
    for (const r of sent) shipper.enqueue(r);
    assert.equal(collector.batches.length, 0, 'nothing shipped before the interval');
    assert.equal(await shipper.close(), true);
    assert.deepEqual(shippedIds(collector.batches), sent.map((r) => r.call_id));
    shipper.enqueue(record());
    assert.equal(shipper.dropped, 1);
  });

  test('a full queue drops and counts', async () => {
    const shipper = createShipper({ url, flushIntervalMs: 60_000, maxQueue: 10, maxBatch: 100 });
    for (let i = 0; i < 15; i++) shipper.enqueue(record());
    assert.equal(shipper.dropped, 5);
    assert.equal(shipper.stats().queued, 10);
    await shipper.close();
    assert.equal(shippedIds(collector.batches).length, 10);
  });

  test('close() is bounded when the collector is unreachable', async () => {
    const shipper = createShipper({ url: 'http://127.0.0.1:9/v1/records', flushIntervalMs: 10, retryBaseMs: 10, drainTimeoutMs: 300 });
    for (let i = 0; i < 3; i++) shipper.enqueue(record());
    const started = Date.now();
    assert.equal(await shipper.close(), false);
    assert.ok(Date.now() - started < 2_000);
    assert.equal(shipper.dropped, 3);
  });
});
