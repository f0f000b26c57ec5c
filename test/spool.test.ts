/**
 * The durable shipper: records are on disk when enqueue() returns (a SIGKILL
 * right after loses nothing), wait out a collector outage in the spool, ship
 * after a restart, and at the cap the oldest are dropped, counted and reported
 * as a `shipper_drop` pipeline event the alert reads.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createShipper, openSpool } from '../packages/mcptrail/src/record/index.js';
import { TABLES } from '../packages/collector/src/store/index.js';
import { callRecord, countRows, startTestCollector, type TestCollector } from './support/reliability-collector.js';

const tmp = (p: string) => mkdtempSync(join(tmpdir(), p));
const spoolBytes = (dir: string) => readdirSync(dir).filter((f) => f.startsWith('seg-')).reduce((n, f) => n + statSync(join(dir, f)).size, 0);

async function until(cond: () => Promise<boolean> | boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('spool', () => {
  test('a record is in the spool when enqueue() returns: SIGKILL right after loses nothing', () => {
    const dir = tmp('mcptrail-spool-kill-');
    const script = join(dir, '..', `spool-kill-${process.pid}.mts`);
    writeFileSync(
      script,
      `import { createShipper } from ${JSON.stringify(new URL('../packages/mcptrail/src/record/index.ts', import.meta.url).pathname)};
       const s = createShipper({ url: 'http://127.0.0.1:9/v1/records', spoolDir: ${JSON.stringify(dir)}, flushIntervalMs: 60000 });
       for (let i = 0; i < 500; i++) s.enqueue({ n: i });
       process.kill(process.pid, 'SIGKILL');`,
    );
    const child = spawnSync(process.execPath, ['--import', 'tsx', script], { timeout: 20_000 });
    rmSync(script);
    assert.equal(child.signal, 'SIGKILL');
    const spool = openSpool({ dir });
    assert.equal(spool.size, 500);
    const lines = spool.peek(1000);
    assert.deepEqual(lines.map((l) => (JSON.parse(l) as { n: number }).n), Array.from({ length: 500 }, (_, i) => i));
    void spool.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('peek/ack across segments deletes acknowledged segments; the cursor survives a reopen', async () => {
    const dir = tmp('mcptrail-spool-seg-');
    const spool = openSpool({ dir, segmentBytes: 4096, maxBytes: 1 << 20 });
    for (let i = 0; i < 300; i++) spool.push(JSON.stringify({ i, pad: 'x'.repeat(40) }));
    assert.ok(spool.segments > 3);
    await spool.sync();
    let got: number[] = [];
    for (let k = 0; k < 3; k++) {
      const batch = spool.peek(50);
      got = got.concat(batch.map((l) => (JSON.parse(l) as { i: number }).i));
      spool.ack(batch.length);
    }
    await spool.close();
    const again = openSpool({ dir, segmentBytes: 4096 });
    assert.equal(again.size, 300 - got.length);
    const rest: number[] = [];
    for (let batch = again.peek(64); batch.length; batch = again.peek(64)) {
      rest.push(...batch.map((l) => (JSON.parse(l) as { i: number }).i));
      again.ack(batch.length);
    }
    assert.deepEqual([...got, ...rest], Array.from({ length: 300 }, (_, i) => i), 'every record once, in order');
    await again.close();
    assert.equal(readdirSync(dir).filter((f) => f.startsWith('seg-')).length, 0, 'acknowledged segments are deleted');
    rmSync(dir, { recursive: true, force: true });
  });

  test('acking a prefix of a peeked batch (the shipper cut it to fit a body) resumes right after it, also after a reopen', async () => {
    const dir = tmp('mcptrail-spool-prefix-');
    const spool = openSpool({ dir });
    for (let i = 0; i < 20; i++) spool.push(JSON.stringify({ i }));
    assert.equal(spool.peek(10).length, 10);
    spool.ack(4);
    assert.equal(spool.size, 16);
    assert.deepEqual(spool.peek(3).map((l) => (JSON.parse(l) as { i: number }).i), [4, 5, 6]);
    spool.ack(3);
    await spool.close();
    const again = openSpool({ dir });
    assert.deepEqual(again.peek(100).map((l) => (JSON.parse(l) as { i: number }).i), Array.from({ length: 13 }, (_, k) => k + 7));
    assert.throws(() => again.ack(14), RangeError, 'more than was peeked');
    await again.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a backlog larger than one request body ships completely from the spool', async () => {
    const collector = await startTestCollector();
    const dir = tmp('mcptrail-spool-big-');
    try {
      // ~3 KB records: 5,000 of them are ~15 MB, so each 5,000-record peek is cut to fit the 4 Mi-character body.
      const shipper = createShipper({ url: `${collector.base}/v1/records`, spoolDir: dir, flushIntervalMs: 60_000 });
      const total = 6_000;
      for (let i = 0; i < total; i++) shipper.enqueue(callRecord({ args_summary: JSON.stringify({ pad: 'x'.repeat(3000), i }) }));
      assert.equal(await shipper.flush(), true, 'drained');
      assert.equal(shipper.stats().shipped, total);
      assert.equal(shipper.stats().dropped, 0);
      assert.equal(await countRows(collector.store, TABLES.toolCalls), total);
      await shipper.close();
    } finally {
      await collector.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('one process per spool directory', async () => {
    const dir = tmp('mcptrail-spool-lock-');
    const a = openSpool({ dir });
    const child = spawnSync(process.execPath, ['--import', 'tsx', '-e', `import('${new URL('../packages/mcptrail/src/record/spool.ts', import.meta.url).pathname}').then(m => m.openSpool({ dir: ${JSON.stringify(dir)} }))`]);
    assert.notEqual(child.status, 0);
    assert.match(String(child.stderr), /in use by process/);
    await a.close();
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('durable shipper against a real collector', () => {
  let c: TestCollector;
  before(async () => {
    c = await startTestCollector();
  });
  after(() => c.close());

  test('collector unreachable: records wait in the spool, survive a restart, then arrive in full, once', async () => {
    const dir = tmp('mcptrail-spool-outage-');
    const down = 'http://127.0.0.1:9/v1/records';
    const first = createShipper({ url: down, spoolDir: dir, flushIntervalMs: 10, retryBaseMs: 10, retryMaxMs: 50, drainTimeoutMs: 200 });
    const sent = Array.from({ length: 1500 }, () => callRecord({ tenant_id: 'outage' }));
    for (const r of sent) first.enqueue(r);
    await first.sync();
    assert.equal(await first.close(), false, 'nothing could be shipped');
    assert.equal(first.dropped, 0, 'a spool keeps what it could not ship');
    const rss = process.memoryUsage().rss;

    const second = createShipper({ url: `${c.base}/v1/records`, spoolDir: dir, flushIntervalMs: 10 });
    await until(() => second.stats().queued === 0);
    assert.equal(await second.flush(), true);
    const [row] = await c.store.query<{ n: number }>(`SELECT count() AS n FROM ${TABLES.toolCalls} WHERE tenant_id = 'outage'`);
    assert.equal(Number(row!.n), 1500);
    assert.ok(process.memoryUsage().rss - rss < 200 * 1024 * 1024);
    await second.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('at the cap the oldest records are dropped, counted, and reported into pipeline_events', async () => {
    const dir = tmp('mcptrail-spool-cap-');
    const cap = 64 * 1024;
    const shipper = createShipper({
      url: 'http://127.0.0.1:9/v1/records',
      spoolDir: dir,
      spoolMaxBytes: cap,
      flushIntervalMs: 10,
      retryBaseMs: 10,
      retryMaxMs: 50,
      drainTimeoutMs: 100,
      service: 'crm-cap-test',
    });
    const sent = Array.from({ length: 600 }, () => callRecord({ tenant_id: 'capped' }));
    for (const r of sent) shipper.enqueue(r);
    assert.ok(spoolBytes(dir) <= cap, `spool holds ${spoolBytes(dir)} bytes`);
    const dropped = shipper.dropped;
    assert.ok(dropped > 0 && dropped < 600, `dropped ${dropped}`);
    assert.equal(shipper.stats().queued + dropped, 600, 'every record is either spooled or counted as dropped');
    await shipper.close();

    // Back up: the spooled ones arrive, and so does the drop report (persisted across the restart).
    const revived = createShipper({ url: `${c.base}/v1/records`, spoolDir: dir, flushIntervalMs: 10, service: 'crm-cap-test' });
    await until(async () => revived.stats().queued === 0 && revived.stats().dropsReported === dropped);
    const [row] = await c.store.query<{ n: number }>(`SELECT count() AS n FROM ${TABLES.toolCalls} WHERE tenant_id = 'capped'`);
    assert.equal(Number(row!.n), 600 - dropped, 'the newest records survived');
    const [ev] = await c.store.query<{ n: number }>(
      `SELECT sum(count) AS n FROM ${TABLES.pipelineEvents} WHERE event = 'shipper_drop' AND reason = 'spool_full' AND service = 'crm-cap-test'`,
    );
    assert.equal(Number(ev!.n), dropped);
    await revived.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a collector answering 503 for a while: nothing lost, nothing doubled', async () => {
    const dir = tmp('mcptrail-spool-503-');
    let refuse = true;
    const http = await import('node:http');
    const proxy = http.createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const ch of req) chunks.push(ch as Buffer);
      if (refuse) return void res.writeHead(503, { 'retry-after': '0' }).end();
      const up = await fetch(`${c.base}${req.url}`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: Buffer.concat(chunks) });
      res.writeHead(up.status).end(await up.text());
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', () => r()));
    const port = (proxy.address() as { port: number }).port;
    const shipper = createShipper({ url: `http://127.0.0.1:${port}/v1/records`, spoolDir: dir, flushIntervalMs: 10, retryBaseMs: 10, retryMaxMs: 40 });
    const before = await countRows(c.store);
    for (let i = 0; i < 400; i++) shipper.enqueue(callRecord({ tenant_id: 'flaky' }));
    await new Promise((r) => setTimeout(r, 300));
    assert.ok(shipper.stats().retries > 0);
    refuse = false;
    assert.equal(await shipper.flush(), true);
    assert.equal((await countRows(c.store)) - before, 400);
    await shipper.close();
    proxy.closeAllConnections();
    proxy.close();
    rmSync(dir, { recursive: true, force: true });
  });
});
