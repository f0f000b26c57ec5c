/**
 * §6 Shipper under outage. A worker emits CallRecords at 2,000 calls/s into
 * createRecordSink({ logger, shipper }) exactly as the pipeline does (pino line
 * to a discarding stream + createShipper with its default options). Phases:
 * collector up (baseline) → collector down, its port refusing connections →
 * the real collector (embedded store) back on the same port → drained.
 * RSS and CPU are sampled every second.
 *
 *   node bench/outage.js                 (BENCH_OUTAGE_S=30 for a shorter outage; default 60)
 *   BENCH_SHIPPER='{"spool":true}' node bench/outage.js   the same with the durable disk spool
 *   node bench/outage.js emitter URL     the instrumented-server stand-in
 *
 * The shipper is built from its public options only (`spool: true` becomes a
 * fresh `spoolDir` in the OS temp directory).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MCPTRAIL, QUICK, fmt, serveWorker, sleep, spawnWorker } from './lib.js';
import { makeRecord } from './gen.js';

const RATE = 2000;
const OUTAGE_S = Number(process.env.BENCH_OUTAGE_S ?? (QUICK ? 8 : 60));
const BASELINE_S = QUICK ? 3 : 10;
const MAX_DRAIN_S = QUICK ? 20 : 60;

if (process.argv[2] === 'emitter') await emitter(process.argv[3], JSON.parse(process.argv[4] ?? '{}'));
else if (import.meta.url === `file://${process.argv[1]}`) {
  const result = await orchestrate(JSON.parse(process.env.BENCH_SHIPPER ?? '{}'));
  console.log(JSON.stringify(result, null, 2));
  process.send?.({ result });
}

async function freePort() {
  const srv = createServer();
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address();
  await new Promise((r) => srv.close(r));
  return port;
}

export async function orchestrate(shipperOptions = {}) {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let collector = spawnWorker('ingest.js', ['collector', 'embedded', String(port)]);
  await collector.ask({ cmd: 'start' });
  const emit = spawnWorker('outage.js', ['emitter', `${url}/v1/records`, JSON.stringify(shipperOptions)]);
  await emit.ask({ cmd: 'start' });
  const samples = [];
  const sampleFor = async (phase, seconds, until) => {
    const end = Date.now() + seconds * 1000;
    while (Date.now() < end) {
      await sleep(1000);
      const s = await emit.ask({ cmd: 'sample' });
      samples.push({ phase, ...s });
      if (until?.(s)) return s;
    }
    return samples.at(-1);
  };
  await sampleFor('baseline', BASELINE_S);
  await collector.stop(); // the port now refuses connections
  const downAt = Date.now();
  await sampleFor('outage', OUTAGE_S);
  const queuedAtRecovery = samples.at(-1).queued;
  collector = spawnWorker('ingest.js', ['collector', 'embedded', String(port)]);
  await collector.ask({ cmd: 'start' });
  const upAt = Date.now();
  const last = await sampleFor('recovery', MAX_DRAIN_S, (s) => s.queued < RATE / 2); // under half a second of traffic: drained
  const drainS = last.queued < RATE / 2 ? (Date.now() - upAt) / 1000 : Infinity;
  const final = await emit.ask({ cmd: 'stop' });
  const counts = await collector.ask({ cmd: 'counts' });
  await emit.stop();
  await collector.stop();

  const phase = (p) => samples.filter((s) => s.phase === p);
  const cpuPct = (list) => (list.length < 2 ? NaN : ((list.at(-1).cpuUs - list[0].cpuUs) / 1000 / (list.at(-1).t - list[0].t)) * 100);
  const peak = (list, k) => Math.max(...list.map((s) => s[k]));
  const shipRate = (list) => (list.length < 2 ? NaN : ((list.at(-1).shipped - list[0].shipped) / (list.at(-1).t - list[0].t)) * 1000);
  return {
    shipperOptions,
    shipRateBaseline: shipRate(phase('baseline')),
    shipRateRecovery: shipRate(phase('recovery')),
    rate: RATE,
    outageS: (upAt - downAt) / 1000,
    baseline: { rssMb: peak(phase('baseline'), 'rssMb'), cpuPct: cpuPct(phase('baseline')), heapMb: peak(phase('baseline'), 'heapMb') },
    outage: { rssMb: peak(phase('outage'), 'rssMb'), cpuPct: cpuPct(phase('outage')), heapMb: peak(phase('outage'), 'heapMb'), queuedAtRecovery },
    recovery: { rssMb: peak(phase('recovery'), 'rssMb'), cpuPct: cpuPct(phase('recovery')), drainS },
    final,
    stored: counts.records,
    samples,
  };
}

export function table(r) {
  const spooled = Boolean(r.shipperOptions.spool);
  const queue = spooled
    ? 'the durable disk spool (`spoolDir`: each record appended before `emit()` returns, group fdatasync every 20 ms, spool cap 256 MiB)'
    : 'the memory queue (no `spoolDir`; maxQueue 100,000)';
  return [
    `**Shipper with ${queue}.** Shipping rate with the collector up: ${fmt(r.shipRateBaseline, 0)} records/s before the outage, ${fmt(r.shipRateRecovery, 0)} records/s after it.`,
    '',
    `Emitter: ${r.rate.toLocaleString('en-US')} records/s into \`createRecordSink({ logger, shipper: createShipper({ url${spooled ? ', spoolDir' : ''} }) })\` (maxBatch 5,000, retry backoff up to 5 s); collector down for ${fmt(r.outageS, 0)} s (refused port), then the real collector (embedded store) back on the same port.`,
    '',
    '| phase | peak RSS MB | peak heap MB | emitter CPU % of one core | other |',
    '|---|---|---|---|---|',
    `| collector up (baseline) | ${fmt(r.baseline.rssMb, 0)} | ${fmt(r.baseline.heapMb, 0)} | ${fmt(r.baseline.cpuPct, 1)} | |`,
    `| collector down | ${fmt(r.outage.rssMb, 0)} | ${fmt(r.outage.heapMb, 0)} | ${fmt(r.outage.cpuPct, 1)} | queued at recovery: ${r.outage.queuedAtRecovery.toLocaleString('en-US')} |`,
    `| collector back → drained | ${fmt(r.recovery.rssMb, 0)} | | ${fmt(r.recovery.cpuPct, 1)} | **drain time ${Number.isFinite(r.recovery.drainS) ? fmt(r.recovery.drainS, 1) + ' s' : `not drained within ${MAX_DRAIN_S} s`}** |`,
    '',
    `Totals: emitted ${r.final.emitted.toLocaleString('en-US')}, shipped ${r.final.shipped.toLocaleString('en-US')}, dropped ${r.final.dropped.toLocaleString('en-US')}, retries ${r.final.retries}, stored by the restarted collector (a fresh data directory, so only what arrived after the outage) ${r.stored.toLocaleString('en-US')}.`,
  ].join('\n');
}

async function emitter(url, options) {
  const { createRecordSink, createLogger, createShipper } = await import(MCPTRAIL);
  const { Writable } = await import('node:stream');
  const devNull = new Writable({ write(_c, _e, cb) { cb(); } });
  const { spool, ...rest } = options;
  const spoolDir = spool ? mkdtempSync(join(tmpdir(), 'mcptrail-bench-spool-')) : undefined;
  const shipper = createShipper({ url, ...rest, ...(spoolDir && { spoolDir }) });
  const sink = createRecordSink({ logger: createLogger({ destination: devNull }), shipper });
  let emitted = 0;
  let running = false;
  let start = 0;
  let timer;
  const tick = () => {
    // Catch up to the target count: steady 2,000/s whatever the timer jitter.
    const due = Math.floor(((performance.now() - start) / 1000) * RATE);
    const now = Date.now();
    while (emitted < due) sink.emit(makeRecord(emitted++, now));
    if (running) timer = setTimeout(tick, 5);
  };
  serveWorker({
    async start() {
      running = true;
      start = performance.now();
      tick();
      return { ok: true };
    },
    async sample() {
      const m = process.memoryUsage();
      const c = process.cpuUsage();
      const st = shipper.stats();
      return { t: performance.now(), rssMb: m.rss / 2 ** 20, heapMb: m.heapUsed / 2 ** 20, cpuUs: c.user + c.system, emitted, ...st };
    },
    async stop() {
      running = false;
      clearTimeout(timer);
      await sink.flush();
      return { emitted, ...shipper.stats() };
    },
    exit: async () => {
      await sink.close();
      if (spoolDir) rmSync(spoolDir, { recursive: true, force: true });
    },
  });
}
