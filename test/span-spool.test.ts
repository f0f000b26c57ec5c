/**
 * Spans survive a collector outage (issue 10 item 5): the span exporter
 * writes every span to a disk spool (the records' spool module) and ships
 * from there, so an outage — or a restart during one — delays spans instead
 * of losing them; past the spool's bound the oldest are dropped, counted
 * exactly, and reported as `span_drop` events. Against the real collector
 * (embedded store) behind a front that goes away and comes back on its port.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { TABLES } from '../packages/collector/src/store/index.js';
import { mcptrailSpanProcessor } from '../packages/mcptrail/src/telemetry/index.js';
import { createSpoolingSpanExporter } from '../packages/mcptrail/src/telemetry/span-spool.js';
import { countRows, startTestCollector, type TestCollector } from './support/reliability-collector.js';

let collector: TestCollector;
let front: Front;
const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'mcptrail-span-spool-'));
  dirs.push(d);
  return d;
};

/** A pass-through to the collector that can be taken down (connection refused) and brought back on the same port. */
interface Front {
  url: string;
  down(): Promise<void>;
  up(): Promise<void>;
  close(): Promise<void>;
}

async function startFront(target: string): Promise<Front> {
  const forward = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const upstream = http.request(`${target}${req.url}`, { method: req.method, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  };
  let server = http.createServer(forward);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const stop = () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r())));
  return {
    url: `http://127.0.0.1:${port}`,
    down: stop,
    up: async () => {
      server = http.createServer(forward);
      await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
    },
    close: stop,
  };
}

before(async () => {
  collector = await startTestCollector();
  front = await startFront(collector.base);
});
after(async () => {
  await front.close().catch(() => undefined);
  await collector.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function spansNamed(prefix: string): Promise<number> {
  const [row] = await collector.store.query<{ n: string }>(`SELECT count() AS n FROM ${TABLES.otelTraces} WHERE startsWith(SpanName, {p:String})`, { p: prefix });
  return Number(row!.n);
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function emit(provider: BasicTracerProvider, prefix: string, n: number): void {
  const tracer = provider.getTracer('mcptrail');
  for (let i = 0; i < n; i++) tracer.startSpan(`${prefix} ${i}`).end();
}

test('spans made during an outage, and across a restart during it, all reach the collector once it is back', async () => {
  const dir = tempDir();
  await front.down();

  // Before the "crash": 300 spans, exported into the spool while the collector is unreachable.
  const first = new BasicTracerProvider({ spanProcessors: [mcptrailSpanProcessor({ collectorUrl: front.url, spoolDir: dir })] });
  emit(first, 'outage-a', 300);
  await first.forceFlush();
  await first.shutdown(); // stops after its bounded drain; what is left stays on disk

  // After the restart, still down: 200 more.
  const second = new BasicTracerProvider({ spanProcessors: [mcptrailSpanProcessor({ collectorUrl: front.url, spoolDir: dir })] });
  emit(second, 'outage-b', 200);
  await second.forceFlush(); // into the spool; the drain gives up after its bound
  assert.equal(await spansNamed('outage-'), 0, 'nothing can have arrived yet');

  await front.up();
  await until('500 spans stored', async () => (await spansNamed('outage-')) === 500);
  assert.equal(await spansNamed('outage-a'), 300);
  assert.equal(await spansNamed('outage-b'), 200);
  await second.shutdown();
});

test('past the spool bound the oldest spans are dropped, counted one by one and reported as span_drop', async () => {
  const dir = tempDir();
  await front.down();
  const exporter = createSpoolingSpanExporter({
    url: `${front.url}/v1/traces`,
    eventsUrl: `${front.url}/v1/events`,
    dir,
    maxBytes: 256 * 1024,
    service: 'span-spool-test',
    retryMaxMs: 200,
  });
  const provider = new BasicTracerProvider();
  const tracer = provider.getTracer('mcptrail');
  const made = 2_000;
  const spans = Array.from({ length: made }, (_, i) => {
    const s = tracer.startSpan(`bounded ${i}`, { attributes: { 'pad': 'x'.repeat(200) } });
    s.end();
    return s as unknown as Parameters<typeof exporter.export>[0][number];
  });
  await new Promise<void>((resolve) => exporter.export(spans, () => resolve()));
  const dropped = exporter.stats().dropped;
  assert.ok(dropped > 0 && dropped < made, `a 256 KiB spool cannot hold ${made} spans: dropped ${dropped}`);

  await front.up();
  const stored = () => spansNamed('bounded ');
  await until('the spool drained', async () => (await stored()) === made - dropped && exporter.stats().dropsReported === dropped);
  const events = await collector.store.query<{ event: string; reason: string; count: string }>(
    `SELECT event, reason, sum(count) AS count FROM ${TABLES.pipelineEvents} WHERE service = 'span-spool-test' GROUP BY event, reason`,
  );
  assert.deepEqual(events.map((e) => ({ ...e, count: Number(e.count) })), [{ event: 'span_drop', reason: 'spool_full', count: dropped }]);
  assert.equal(await stored(), made - dropped, 'every span not counted as dropped is stored');
  // The newest survive: the spool drops oldest first.
  const [newest] = await collector.store.query<{ n: string }>(`SELECT count() AS n FROM ${TABLES.otelTraces} WHERE SpanName = {s:String}`, { s: `bounded ${made - 1}` });
  assert.equal(Number(newest!.n), 1);
  await exporter.shutdown();
  assert.ok((await countRows(collector.store, TABLES.pipelineEvents)) >= 1);
});

test('a span is on disk when it ends: a process SIGKILLed right after its spans ended loses none of them', async () => {
  const dir = tempDir();
  await front.down();
  // The child ends 50 spans and kills itself at once: no flush, no exit handler, no timer gets to run.
  const processorModule = new URL('../packages/mcptrail/src/telemetry/index.ts', import.meta.url).href;
  const code = `
    const { BasicTracerProvider } = await import('@opentelemetry/sdk-trace-base');
    const { mcptrailSpanProcessor } = await import(${JSON.stringify(processorModule)});
    const provider = new BasicTracerProvider({ spanProcessors: [mcptrailSpanProcessor({ collectorUrl: ${JSON.stringify(front.url)}, spoolDir: ${JSON.stringify(dir)} })] });
    const tracer = provider.getTracer('mcptrail');
    for (let i = 0; i < 50; i++) tracer.startSpan('killed-' + i).end();
    process.kill(process.pid, 'SIGKILL');
  `;
  const child = spawn(process.execPath, ['--conditions=mcptrail-source', '--import', 'tsx', '--input-type=module', '-e', code], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (b) => (stderr += b));
  const [, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
  assert.equal(signal, 'SIGKILL', `the child died by its own SIGKILL (stderr: ${stderr})`);

  // The next process on the same spool ships what the killed one left.
  await front.up();
  const next = new BasicTracerProvider({ spanProcessors: [mcptrailSpanProcessor({ collectorUrl: front.url, spoolDir: dir })] });
  await until('the killed process\'s 50 spans stored', async () => (await spansNamed('killed-')) === 50);
  await next.shutdown();
});
