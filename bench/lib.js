/**
 * Shared helpers of the benchmark harness: statistics, tables, child
 * processes, a discarding span exporter and a discarding HTTP sink.
 * Plain Node only (performance.now, process.cpuUsage, node:http).
 */
import { fork } from 'node:child_process';
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

export const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
export const ROOT = join(BENCH_DIR, '..');
/** mcptrail as a user gets it: the compiled package (`npm run build` at the root first). */
export const LIB_DIST = join(ROOT, 'packages', 'mcptrail', 'dist');
export const COLLECTOR_DIST = join(ROOT, 'packages', 'collector', 'dist');
export const MCPTRAIL = process.env.BENCH_MCPTRAIL ?? join(LIB_DIST, 'index.js');
/**
 * BENCH_BASELINE="before=path/to/dist/index.js,step1=..." (earlier builds, kept
 * under the repo so their imports resolve): §1 adds a `mcptrail@NAME` variant
 * per entry and §2 one for the first, so before and after share one run.
 */
export const BASELINES = (process.env.BENCH_BASELINE || '')
  .split(',')
  .filter(Boolean)
  .map((e) => {
    const [name, path] = e.includes('=') ? e.split('=') : ['before', e];
    return { variant: `mcptrail@${name}`, name, path };
  });
/** The module a `mcptrail` or `mcptrail@NAME` variant imports. */
export const mcptrailFor = (variant) => (variant === 'mcptrail' ? MCPTRAIL : BASELINES.find((b) => b.variant === variant).path);
const COLLECTOR_ROOMS = new Set(['collector', 'store', 'audit', 'alerts', 'dashboards', 'cli', 'demo']);
/** Internal modules that are not on the public surface (collector, store, audit), in whichever package holds them. */
export const dist = (path) => join(COLLECTOR_ROOMS.has(path.split('/')[0]) ? COLLECTOR_DIST : LIB_DIST, path);

/** QUICK=1 shortens every section (smoke test of the harness, figures not meaningful). */
export const QUICK = process.env.BENCH_QUICK === '1';

// ---------- statistics ----------

export function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

export function summarize(values) {
  const s = Float64Array.from(values).sort();
  let sum = 0;
  for (const v of s) sum += v;
  return { n: s.length, mean: sum / s.length, p50: percentile(s, 50), p95: percentile(s, 95), p99: percentile(s, 99), max: s[s.length - 1] };
}

export const median = (values) => percentile(Float64Array.from(values).sort(), 50);

// ---------- formatting ----------

export function fmt(n, digits = 1) {
  if (n === undefined || n === null || Number.isNaN(n)) return 'n/a';
  if (!Number.isFinite(n)) return '∞';
  const abs = Math.abs(n);
  if (abs >= 10_000) return Math.round(n).toLocaleString('en-US');
  if (abs >= 100) return n.toFixed(0);
  return n.toFixed(digits);
}

export function mdTable(headers, rows) {
  const line = (cells) => `| ${cells.join(' | ')} |`;
  return [line(headers), line(headers.map(() => '---')), ...rows.map(line)].join('\n');
}

// ---------- processes ----------

/** Runs `file` in a fresh Node process; resolves with the JSON it sends over IPC (`process.send({ result })`). */
export function runSection(file, args = [], { execArgv = [], env = {}, timeoutMs = 15 * 60_000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = fork(join(BENCH_DIR, file), args, {
      execArgv,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let result;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${file} timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    child.on('message', (m) => {
      if (m && m.result !== undefined) result = m.result;
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (result !== undefined) resolve(result);
      else reject(new Error(`${file} exited with code ${code} and no result`));
    });
  });
}

/** A long-lived child driven by request/answer messages (for interleaving variants). */
export function spawnWorker(file, args = [], opts = {}) {
  const child = fork(join(BENCH_DIR, file), args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], ...opts });
  let pending;
  child.on('message', (m) => {
    const p = pending;
    pending = undefined;
    if (m && m.error) p?.reject(new Error(m.error));
    else p?.resolve(m);
  });
  child.on('exit', (code) => pending?.reject(new Error(`${file} ${args.join(' ')} exited (${code})`)));
  return {
    child,
    ask(msg) {
      return new Promise((resolve, reject) => {
        pending = { resolve, reject };
        child.send(msg);
      });
    },
    async stop() {
      child.send({ cmd: 'exit' });
      await new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', r)));
    },
  };
}

/** Worker side of spawnWorker: `handlers[cmd](msg)` answers each request. */
export function serveWorker(handlers) {
  process.on('message', async (msg) => {
    if (msg.cmd === 'exit') {
      await handlers.exit?.();
      process.exit(0);
    }
    try {
      process.send(await handlers[msg.cmd](msg));
    } catch (err) {
      process.send({ error: String(err?.stack ?? err) });
    }
  });
}

export function shuffle(a) {
  const out = [...a];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

// ---------- sinks ----------

/** An OTLP-less span exporter that counts and drops: the cost of export is the SDK's, not the network's. */
export function discardingExporter() {
  const exporter = {
    spans: 0,
    export(spans, done) {
      exporter.spans += spans.length;
      done({ code: 0 });
    },
    shutdown: async () => {},
    forceFlush: async () => {},
  };
  return exporter;
}

/** An HTTP server on 127.0.0.1 that reads each body, counts it, and answers 200 `{}`. */
export async function startDiscardServer() {
  const stats = { requests: 0, bytes: 0 };
  const server = createServer((req, res) => {
    req.on('data', (c) => (stats.bytes += c.length));
    req.on('end', () => {
      stats.requests++;
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': 2 });
      res.end('{}');
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    stats,
    close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

/** CPU time (user + system) of this process in microseconds. */
export function cpuMicros() {
  const u = process.cpuUsage();
  return u.user + u.system;
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
