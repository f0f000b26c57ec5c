/**
 * §3 Collector ingest: NDJSON CallRecords (5,000 per request) and OTLP
 * protobuf spans (1,000 per request) posted with several requests in flight
 * to the real collector (createCollector + BatchWriter) over (a) the embedded
 * engine and (b) the http driver against the ClickHouse-HTTP test server
 * (test/support/ch-http-server.ts, run under tsx in its own process). The
 * collector and the engine server are separate processes; this process
 * pre-generates every body (all unique: the writer deduplicates) and posts.
 *
 *   node bench/ingest.js                         orchestrator
 *   node bench/ingest.js collector embedded|URL  collector worker
 *   node --import tsx bench/ingest.js chhttp     ClickHouse-HTTP test server worker
 *
 * Side by side with earlier builds (embedded store only; each variant gets its
 * own collector process and a fresh store, variants alternate in shuffled
 * order per round, the same bodies for all):
 *   BENCH_BASELINE="before=$PWD/.baseline/dist/index.js" node bench/ingest.js
 *   BENCH_INGEST_ROUNDS=3 (default 2)
 */
import { Agent, request } from 'node:http';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { dirname } from 'node:path';
import { BASELINES, COLLECTOR_DIST, QUICK, ROOT, dist, fmt, median, serveWorker, shuffle, spawnWorker } from './lib.js';
import { ndjsonBatch, otlpBodies } from './gen.js';

if (process.argv[2] === 'collector') await collectorWorker(process.argv[3], Number(process.argv[4] ?? 0));
else if (process.argv[2] === 'ceiling') await ceilingWorker();
else if (process.argv[2] === 'chhttp') await chHttpWorker();
else if (import.meta.url === `file://${process.argv[1]}`) {
  const result = BASELINES.length ? await compareBuilds() : await orchestrate();
  console.log(JSON.stringify(result, null, 2));
  process.send?.({ result });
}

export async function orchestrate() {
  const plan = {
    embedded: { recordRequests: QUICK ? 6 : 60, spanRequests: QUICK ? 20 : 200 },
    http: { recordRequests: QUICK ? 4 : 20, spanRequests: QUICK ? 10 : 60 },
  };
  const maxReq = Math.max(plan.embedded.recordRequests, plan.http.recordRequests);
  const maxSpanReq = Math.max(plan.embedded.spanRequests, plan.http.spanRequests);
  const t0 = performance.now();
  const recordBodies = Array.from({ length: maxReq }, (_, i) => Buffer.from(ndjsonBatch(5000, i * 5000)));
  const spanBodies = await otlpBodies(maxSpanReq, 1000);
  const genMs = performance.now() - t0;

  const results = {};
  const drivers = process.env.BENCH_INGEST_DRIVERS ? process.env.BENCH_INGEST_DRIVERS.split(',') : ['embedded', 'http'];
  for (const driver of drivers) {
    let engine;
    let target = 'embedded';
    if (driver === 'http') {
      engine = spawnWorker('ingest.js', ['chhttp'], { execArgv: ['--import', 'tsx'], cwd: ROOT });
      target = (await engine.ask({ cmd: 'start' })).url;
    }
    const prof = process.env.BENCH_PROF_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROF_DIR}/${driver}`] : [];
    // BENCH_COLLECTOR_NODE_FLAGS: V8 flags for the collector process (e.g. --max-semi-space-size=32).
    const flags = (process.env.BENCH_COLLECTOR_NODE_FLAGS ?? '').split(' ').filter(Boolean);
    const collector = spawnWorker('ingest.js', ['collector', target], { execArgv: [...prof, ...flags] });
    const { url } = await collector.ask({ cmd: 'start' });
    const cpu = async () => {
      const m = await collector.ask({ cmd: 'cpu' });
      return { c: m.cpuUs, w: m.writer, e: engine ? (await engine.ask({ cmd: 'cpu' })).cpuUs : 0 };
    };

    // Warm-up: one request of each kind.
    await post(`${url}/v1/records`, 'application/x-ndjson', [Buffer.from(ndjsonBatch(5000, 10_000_000))], 1);
    await post(`${url}/v1/traces`, 'application/x-protobuf', (await otlpBodies(1, 1000)), 1);

    const phase = async (path, type, bodies, unitsPerBody, concurrency) => {
      const c0 = await cpu();
      const r = await post(`${url}${path}`, type, bodies, concurrency);
      const c1 = await cpu();
      const units = (bodies.length - r.errors) * unitsPerBody;
      return { units, requests: bodies.length, errors: r.errors, statuses: r.statuses, seconds: r.ms / 1000, perSec: units / (r.ms / 1000), collectorCpuMsPer1000: ((c1.c - c0.c) / 1000 / units) * 1000, engineCpuMsPer1000: ((c1.e - c0.e) / 1000 / units) * 1000, p99RequestMs: r.p99, inserts: c1.w.inserts - c0.w.inserts, dedupLookupMs: c1.w.dedupLookupMs - c0.w.dedupLookupMs };
    };
    const records = await phase('/v1/records', 'application/x-ndjson', recordBodies.slice(0, plan[driver].recordRequests), 5000, 4);
    const spans = await phase('/v1/traces', 'application/x-protobuf', spanBodies.slice(0, plan[driver].spanRequests), 1000, 4);
    const counts = await collector.ask({ cmd: 'counts' });
    let ceiling;
    if (driver === 'embedded') {
      // §3 ceiling: the rows the collector stored, inserted again from files into a fresh store.
      const dumpDir = mkdtempSync(join(tmpdir(), 'mcptrail-bench-ceiling-files-'));
      const files = await collector.ask({ cmd: 'dump', dir: dumpDir });
      await collector.stop();
      const worker = spawnWorker('ingest.js', ['ceiling']);
      ceiling = await worker.ask({ cmd: 'run', files });
      await worker.stop();
      rmSync(dumpDir, { recursive: true, force: true });
    } else await collector.stop();
    await engine?.stop();
    results[driver] = { records, spans, counts, ceiling };
  }
  return { genMs, chhttpSessions: Number(process.env.BENCH_CHHTTP_SESSIONS ?? 1), results };
}

/** Rows per insert in the ceiling run: the writer's batch bound (DEFAULT_BATCH.maxRows). */
const CEILING_BATCH_ROWS = 5000;

/**
 * The collector side of the ceiling: what it stored, written to files in insert-sized chunks, in each
 * format the ceiling tries (JSONEachRow = what the collector sends; Native = the engine's own columnar
 * format, its cheapest input). The ledger rows are spread evenly over the record chunks, so each
 * ceiling "batch" inserts its tool_calls rows and its share of ledger entries, as the collector does.
 */
async function dumpStored(store, dir) {
  const out = { formats: ['JSONEachRow', 'Native'], records: [], spans: [], rows: {} };
  const tables = [
    ['records', 'mcptrail.tool_calls', 'ts, call_id'],
    ['spans', 'mcptrail.otel_traces', 'Timestamp, SpanId'],
  ];
  const count = async (table) => Number((await store.query(`SELECT count() AS n FROM ${table}`))[0].n);
  const ledgerRows = await count('mcptrail.ledger');
  for (const [name, table, order] of tables) {
    const n = await count(table);
    out.rows[name] = n;
    const chunks = Math.ceil(n / CEILING_BATCH_ROWS);
    const ledgerPer = Math.ceil(ledgerRows / chunks);
    for (let i = 0; i < chunks; i++) {
      const chunk = {};
      for (const format of out.formats) {
        const file = join(dir, `${name}-${i}.${format}`);
        writeFileSync(file, await store.queryRaw(`SELECT * FROM ${table} ORDER BY ${order} LIMIT ${CEILING_BATCH_ROWS} OFFSET ${i * CEILING_BATCH_ROWS}`, undefined, format));
        chunk[format] = file;
        if (name === 'records') {
          const lfile = join(dir, `ledger-${i}.${format}`);
          writeFileSync(lfile, await store.queryRaw(`SELECT * FROM mcptrail.ledger ORDER BY ingested_at, tenant_id, seq LIMIT ${ledgerPer} OFFSET ${i * ledgerPer}`, undefined, format));
          chunk[`ledger${format}`] = lfile;
        }
      }
      out[name].push(chunk);
    }
  }
  out.rows.ledger = ledgerRows;
  return out;
}

/**
 * The engine's ceiling for the same rows: a fresh embedded store opened and migrated exactly as the
 * collector's (same session settings, all migrations, materialized views, ledger table), the rows
 * inserted straight from the files with the collector's insert settings and a dedup token per block,
 * one insert at a time per table, as the writer does. chdb binds one data directory per process, so
 * the formats run one after the other in the same store, each into tables emptied first (TRUNCATE
 * keeps the schema, the views and the settings).
 */
async function ceilingWorker() {
  const { openEmbeddedStore, migrate } = await import(dist('store/index.js'));
  const dir = mkdtempSync(join(tmpdir(), 'mcptrail-bench-ceiling-'));
  const store = await openEmbeddedStore(join(dir, 'clickhouse'));
  await migrate(store);
  const settings = "date_time_input_format = 'best_effort', deduplicate_blocks_in_dependent_materialized_views = 1";
  const insert = (table, file, format, token) =>
    store.exec(`INSERT INTO ${table} SETTINGS ${settings}, insert_deduplication_token = '${token}' SELECT * FROM file('${file}', '${format}')`);
  const cpuUs = () => {
    const u = process.cpuUsage();
    return u.user + u.system;
  };
  serveWorker({
    run: async ({ files }) => {
      const result = {};
      for (const [name, table] of [['records', 'mcptrail.tool_calls'], ['spans', 'mcptrail.otel_traces']]) {
        for (const format of files.formats) {
          for (const t of ['mcptrail.tool_calls', 'mcptrail.tool_calls_1m', 'mcptrail.ledger', 'mcptrail.otel_traces', 'mcptrail.otel_traces_trace_id_ts']) await store.exec(`TRUNCATE TABLE IF EXISTS ${t}`);
          const c0 = cpuUs();
          const t0 = performance.now();
          let i = 0;
          for (const chunk of files[name]) {
            await insert(table, chunk[format], format, `${format}-${name}-${i}`);
            if (chunk[`ledger${format}`]) await insert('mcptrail.ledger', chunk[`ledger${format}`], format, `${format}-ledger-${i}`);
            i++;
          }
          const seconds = (performance.now() - t0) / 1000;
          const cpuMs = (cpuUs() - c0) / 1000;
          const [c] = await store.query(`SELECT count() AS n FROM ${table}`);
          const rows = Number(c.n);
          (result[name] ??= {})[format] = { rows, inserts: files[name].length, seconds, perSec: rows / seconds, cpuMsPer1000: (cpuMs / rows) * 1000 };
        }
      }
      return result;
    },
    async exit() {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  });
}

/** The embedded phases for this build and each BENCH_BASELINE build, alternating. */
async function compareBuilds() {
  const rounds = Number(process.env.BENCH_INGEST_ROUNDS ?? 2);
  const recordRequests = QUICK ? 6 : 60;
  const spanRequests = QUICK ? 20 : 200;
  const recordBodies = Array.from({ length: recordRequests }, (_, i) => Buffer.from(ndjsonBatch(5000, i * 5000)));
  const spanBodies = await otlpBodies(spanRequests, 1000);
  const warmRecords = [Buffer.from(ndjsonBatch(5000, 10_000_000))];
  const warmSpans = await otlpBodies(1, 1000);
  // The collector package's dist/ (store/, collector/), as a baseline's root is.
  const variants = [{ name: 'current', root: COLLECTOR_DIST }, ...BASELINES.map((b) => ({ name: b.name, root: dirname(b.path) }))];
  const runs = {};
  for (let round = 0; round < rounds; round++) {
    for (const v of shuffle([...variants])) {
      const collector = spawnWorker('ingest.js', ['collector', 'embedded'], { env: { ...process.env, BENCH_INGEST_DIST: v.root } });
      const { url } = await collector.ask({ cmd: 'start' });
      let threads0;
      let threadDelta;
      const lastWriter = {};
      const cpu = async (start) => {
        const m = await collector.ask({ cmd: 'cpu' });
        if (start) threads0 = m.threads;
        else threadDelta = diffThreads(threads0, m.threads);
        lastWriter[start ? 'w0' : 'w1'] = m.writer ?? {};
        return m.cpuUs;
      };
      await post(`${url}/v1/records`, 'application/x-ndjson', warmRecords, 1);
      await post(`${url}/v1/traces`, 'application/x-protobuf', warmSpans, 1);
      const phase = async (path, type, bodies, unitsPerBody) => {
        const c0 = await cpu(true);
        const r = await post(`${url}${path}`, type, bodies, 4);
        const c1 = await cpu(false);
        const units = (bodies.length - r.errors) * unitsPerBody;
        const byThread = Object.fromEntries(Object.entries(threadDelta).map(([k, ms]) => [k, Math.round((ms / units) * 1000 * 10) / 10]));
        return { perSec: units / (r.ms / 1000), cpuMsPer1000: ((c1 - c0) / 1000 / units) * 1000, cpuMsPer1000ByThread: byThread, errors: r.errors, p99RequestMs: r.p99, inserts: lastWriter.w1.inserts - lastWriter.w0.inserts, dedupLookupMs: lastWriter.w1.dedupLookupMs - lastWriter.w0.dedupLookupMs };
      };
      const records = await phase('/v1/records', 'application/x-ndjson', recordBodies, 5000);
      const spans = await phase('/v1/traces', 'application/x-protobuf', spanBodies, 1000);
      const counts = await collector.ask({ cmd: 'counts' });
      let ceiling;
      if (v.name === 'current') {
        // The engine's ceiling on the rows this collector stored, in the same round (see orchestrate).
        const dumpDir = mkdtempSync(join(tmpdir(), 'mcptrail-bench-ceiling-files-'));
        const files = await collector.ask({ cmd: 'dump', dir: dumpDir });
        const worker = spawnWorker('ingest.js', ['ceiling']);
        ceiling = await worker.ask({ cmd: 'run', files });
        await worker.stop();
        rmSync(dumpDir, { recursive: true, force: true });
        console.error(`  ceiling: ${fmt(ceiling.records.JSONEachRow.perSec, 0)} records/s JSONEachRow (${fmt(ceiling.records.Native.perSec, 0)} Native), ${fmt(ceiling.spans.JSONEachRow.perSec, 0)} spans/s JSONEachRow (${fmt(ceiling.spans.Native.perSec, 0)} Native); collector ÷ ceiling (JSONEachRow): ${fmt(records.perSec / ceiling.records.JSONEachRow.perSec, 2)} records, ${fmt(spans.perSec / ceiling.spans.JSONEachRow.perSec, 2)} spans`);
      }
      await collector.stop();
      (runs[v.name] ??= []).push({ records, spans, counts, ceiling, load: loadavg()[0] });
      console.error(`round ${round + 1} ${v.name}: ${fmt(records.perSec, 0)} records/s (${fmt(records.cpuMsPer1000)} ms CPU/1,000), ${fmt(spans.perSec, 0)} spans/s (${fmt(spans.cpuMsPer1000)} ms CPU/1,000)`);
      console.error(`  records CPU ms/1,000 by thread: ${JSON.stringify(records.cpuMsPer1000ByThread)}`);
      console.error(`  spans CPU ms/1,000 by thread: ${JSON.stringify(spans.cpuMsPer1000ByThread)}`);
    }
  }
  const summary = Object.fromEntries(Object.entries(runs).map(([name, rs]) => [name, {
    recordsPerSec: median(rs.map((r) => r.records.perSec)),
    recordsCpuMsPer1000: median(rs.map((r) => r.records.cpuMsPer1000)),
    spansPerSec: median(rs.map((r) => r.spans.perSec)),
    spansCpuMsPer1000: median(rs.map((r) => r.spans.cpuMsPer1000)),
  }]));
  return { rounds, summary, runs };
}

export function table(result) {
  const rows = [];
  for (const driver of ['embedded', 'http']) {
    const r = result.results[driver];
    if (!r) continue;
    const sessions = result.chhttpSessions ?? 1;
    const name = driver === 'embedded' ? 'embedded chdb (in the collector process)' : `http driver → ClickHouse-HTTP test server (chdb, ${sessions === 1 ? '1 request at a time' : `${sessions} requests at once, a session each`})`;
    rows.push(`| ${name} | NDJSON records, 5,000/request, 4 in flight | ${r.records.units.toLocaleString('en-US')} | **${fmt(r.records.perSec, 0)}/s** | ${fmt(r.records.p99RequestMs, 0)} | ${fmt(r.records.collectorCpuMsPer1000, 1)} | ${driver === 'http' ? fmt(r.records.engineCpuMsPer1000, 1) : 'in collector'} | ${r.records.errors} |`);
    rows.push(`| ${name} | OTLP protobuf spans, 1,000/request, 4 in flight | ${r.spans.units.toLocaleString('en-US')} | **${fmt(r.spans.perSec, 0)}/s** | ${fmt(r.spans.p99RequestMs, 0)} | ${fmt(r.spans.collectorCpuMsPer1000, 1)} | ${driver === 'http' ? fmt(r.spans.engineCpuMsPer1000, 1) : 'in collector'} | ${r.spans.errors} |`);
    for (const format of r.ceiling?.formats ?? (r.ceiling ? ['JSONEachRow', 'Native'] : [])) {
      for (const kind of ['records', 'spans']) {
        const c = r.ceiling[kind][format];
        const of = (r[kind].perSec / c.perSec).toFixed(2);
        rows.push(`| ceiling: the same rows from ${format} files into a fresh migrated embedded store (${c.inserts} inserts) | ${kind} | ${c.rows.toLocaleString('en-US')} | **${fmt(c.perSec, 0)}/s** (collector ÷ ceiling ${of}) | — | ${fmt(c.cpuMsPer1000, 1)} | in process | 0 |`);
      }
    }
  }
  return ['| store | payload | rows | sustained rate | p99 request ms | collector CPU ms / 1,000 | engine CPU ms / 1,000 | failed requests |', '|---|---|---|---|---|---|---|---|', ...rows].join('\n');
}

async function post(url, type, bodies, concurrency) {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const u = new URL(url);
  let next = 0;
  let errors = 0;
  const statuses = {};
  const lat = [];
  const start = performance.now();
  const one = (body) =>
    new Promise((resolve) => {
      const t0 = performance.now();
      const req = request({ agent, host: u.hostname, port: u.port, path: u.pathname, method: 'POST', headers: { 'content-type': type, 'content-length': body.length } }, (res) => {
        res.resume();
        res.on('end', () => {
          statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1;
          if (res.statusCode !== 200) errors++;
          lat.push(performance.now() - t0);
          resolve();
        });
      });
      req.on('error', () => {
        errors++;
        resolve();
      });
      req.end(body);
    });
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < bodies.length) await one(bodies[next++]);
  }));
  const ms = performance.now() - start;
  agent.destroy();
  lat.sort((a, b) => a - b);
  return { ms, errors, statuses, p99: lat[Math.min(lat.length - 1, Math.ceil(lat.length * 0.99) - 1)] };
}

export async function collectorWorker(target, port = 0) {
  // BENCH_INGEST_DIST: another build's dist/ (compareBuilds).
  const root = process.env.BENCH_INGEST_DIST;
  const from = (path) => (root ? join(root, path) : dist(path));
  const { openEmbeddedStore, openHttpStore, migrate } = await import(from('store/index.js'));
  const { createCollector } = await import(from('collector/index.js'));
  const dir = mkdtempSync(join(tmpdir(), 'mcptrail-bench-ingest-'));
  const store = target === 'embedded' ? await openEmbeddedStore(join(dir, 'clickhouse')) : openHttpStore({ url: target });
  await migrate(store);
  const collector = await createCollector({ store, ingestToken: '', readToken: '' });
  await collector.app.listen({ host: '127.0.0.1', port });
  serveWorker({
    start: async () => ({ url: `http://127.0.0.1:${collector.app.server.address().port}` }),
    cpu: async () => {
      const u = process.cpuUsage();
      return { cpuUs: u.user + u.system, threads: threadCpu(), writer: collector.stats() };
    },
    dump: async ({ dir }) => {
      await collector.flush();
      return dumpStored(store, dir);
    },
    counts: async () => {
      await collector.flush();
      const [c] = await store.query('SELECT (SELECT count() FROM mcptrail.tool_calls) AS records, (SELECT count() FROM mcptrail.otel_traces) AS spans');
      return { records: Number(c.records), spans: Number(c.spans) };
    },
    async exit() {
      await collector.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  });
}

/** CPU ms per thread name of this process (Linux /proc; engine threads are named by ClickHouse). */
function threadCpu() {
  const out = {};
  try {
    const tick = 10; // USER_HZ = 100 on Linux
    for (const tid of readdirSync('/proc/self/task')) {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      // The main (JS) thread apart; the other `node` threads are libuv workers (where chdb runs a query's
      // own pipeline) and V8's helpers (GC).
      const comm = String(process.pid) === tid ? 'main' : stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')).replace(/[0-9]+$/, '');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out[comm] = (out[comm] ?? 0) + (Number(f[11]) + Number(f[12])) * tick;
    }
  } catch {
    // not Linux
  }
  return out;
}

function diffThreads(a = {}, b = {}) {
  const out = {};
  for (const k of Object.keys(b)) {
    const d = b[k] - (a[k] ?? 0);
    if (d > 0) out[k] = d;
  }
  return out;
}

async function chHttpWorker() {
  const { startClickHouseHttpServer } = await import('../test/support/ch-http-server.ts');
  const dir = mkdtempSync(join(tmpdir(), 'mcptrail-bench-chhttp-'));
  // BENCH_CHHTTP_SESSIONS: requests the test server runs at once (a chdb session each, one engine). Default 1.
  const server = await startClickHouseHttpServer({ dataDir: dir, sessions: Number(process.env.BENCH_CHHTTP_SESSIONS ?? 1) });
  serveWorker({
    start: async () => ({ url: server.url }),
    cpu: async () => {
      const u = process.cpuUsage();
      return { cpuUs: u.user + u.system };
    },
    async exit() {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  });
}
