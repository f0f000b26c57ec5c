/**
 * Export memory on the §4 data set (10 M tool_calls over 30 days, 50 tenants):
 * `mcptrail up` (collector + embedded engine, no demo) serves the data, and
 * `mcptrail export` pulls it through `GET /api/export` into files, as a user
 * runs it. Measured per run: peak RSS of the collector process (VmHWM, the
 * engine included) and of the CLI process (maxRSS), rows, bytes and time.
 *
 *   BENCH_DATA_DIR=/tmp/mcptrail-export-10m node bench/export.js
 *   BENCH_EXPORT_RUNS=3 BENCH_EXPORT_FORMATS=parquet,ndjson BENCH_EXPORT_TENANT=tenant-07 (one tenant) BENCH_ROWS=10000000
 *
 * The data set is generated inside the engine once (bench/dataset.js, tool_calls only) and kept in
 * BENCH_DATA_DIR (export-dataset.json records what is there); exports only read it. Each run's
 * output directory is removed after it is measured. Ports: the collector listens on
 * BENCH_EXPORT_PORT (default 54318).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, dist, median } from './lib.js';
import { toolCallsInsert } from './dataset.js';

const ROWS = Number(process.env.BENCH_ROWS ?? 10_000_000);
const RUNS = Number(process.env.BENCH_EXPORT_RUNS ?? 3);
const FORMATS = (process.env.BENCH_EXPORT_FORMATS ?? 'parquet,ndjson').split(',');
const TENANT = process.env.BENCH_EXPORT_TENANT;
const PORT = Number(process.env.BENCH_EXPORT_PORT ?? 54318);
const DATA_DIR = process.env.BENCH_DATA_DIR ?? join(tmpdir(), 'mcptrail-export-10m');
const CLI = join(ROOT, 'packages', 'collector', 'bin', 'mcptrail.js');
// Prints the CLI's peak RSS (kB) on exit, without changing the CLI.
const MAXRSS_HOOK = `data:text/javascript,process.on('exit',()=>process.stderr.write('MAXRSS_KB '+process.resourceUsage().maxRSS+'\\n'))`;

async function ensureDataset() {
  const marker = join(DATA_DIR, 'export-dataset.json');
  if (existsSync(marker) && JSON.parse(readFileSync(marker, 'utf8')).rows === ROWS) return JSON.parse(readFileSync(marker, 'utf8'));
  rmSync(DATA_DIR, { recursive: true, force: true });
  const { openEmbeddedStore, migrate } = await import(dist('store/index.js'));
  const store = await openEmbeddedStore(join(DATA_DIR, 'clickhouse'));
  const t0 = performance.now();
  try {
    await migrate(store);
    await store.exec(toolCallsInsert(ROWS));
  } finally {
    await store.close();
  }
  const kept = { rows: ROWS, generatedAt: new Date().toISOString(), genCallsMs: performance.now() - t0 };
  writeFileSync(marker, JSON.stringify(kept, null, 2));
  return kept;
}

function vm(pid, field) {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

async function startCollector() {
  const child = spawn(process.execPath, [CLI, 'up', '--port', String(PORT)], {
    env: { ...process.env, MCPTRAIL_DATA_DIR: DATA_DIR, MCPTRAIL_CLICKHOUSE_URL: '', MCPTRAIL_READ_TOKEN: '', MCPTRAIL_READ_TOKENS: '' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      if (out.includes('mcptrail is up')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`mcptrail up exited ${code}: ${out}`)));
  });
  child.stdout.resume();
  return child;
}

function runExport(format, out) {
  const args = ['--import', MAXRSS_HOOK, CLI, 'export', '--since', '31d', '--format', format, '--rows-per-file', '100000', '--out', out, '--json'];
  if (TENANT) args.push('--tenant', TENANT);
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, args, { env: { ...process.env, MCPTRAIL_COLLECTOR_URL: `http://127.0.0.1:${PORT}`, MCPTRAIL_READ_TOKEN: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`export exited ${code}: ${stderr}`));
      const manifest = JSON.parse(stdout);
      resolve({ ms: performance.now() - t0, cliMaxRssKb: Number(/MAXRSS_KB (\d+)/.exec(stderr)?.[1]), rows: manifest.rows, files: manifest.files.length });
    });
  });
}

const dirBytes = (dir) => readdirSync(dir).reduce((n, f) => n + statSync(join(dir, f)).size, 0);

async function main() {
  const data = await ensureDataset();
  const collector = await startCollector();
  const results = { rows: data.rows, tenant: TENANT ?? null, runs: RUNS, formats: {} };
  try {
    const idleRssKb = vm(collector.pid, 'VmRSS');
    results.collectorIdleRssKb = idleRssKb;
    for (const format of FORMATS) {
      const runs = [];
      for (let i = 0; i < RUNS; i++) {
        const out = mkdtempSync(join(tmpdir(), `mcptrail-bench-export-${format}-`));
        const before = vm(collector.pid, 'VmRSS');
        // Sample the collector's RSS while the export runs (VmHWM would also count earlier runs).
        let peak = before;
        const timer = setInterval(() => (peak = Math.max(peak, vm(collector.pid, 'VmRSS'))), 100);
        try {
          const r = await runExport(format, out);
          r.bytes = dirBytes(out);
          r.collectorPeakRssKb = Math.max(peak, vm(collector.pid, 'VmRSS'));
          r.collectorRssBeforeKb = before;
          runs.push(r);
          console.error(`bench/export: ${format} run ${i + 1}: ${r.rows} rows, ${(r.bytes / 1e6).toFixed(0)} MB, ${(r.ms / 1000).toFixed(1)} s, collector peak ${(r.collectorPeakRssKb / 1024).toFixed(0)} MB, CLI peak ${(r.cliMaxRssKb / 1024).toFixed(0)} MB`);
        } finally {
          clearInterval(timer);
          rmSync(out, { recursive: true, force: true });
        }
      }
      const stat = (k) => ({ median: median(runs.map((r) => r[k])), min: Math.min(...runs.map((r) => r[k])), max: Math.max(...runs.map((r) => r[k])) });
      results.formats[format] = { runs, collectorPeakRssKb: stat('collectorPeakRssKb'), cliMaxRssKb: stat('cliMaxRssKb'), ms: stat('ms'), bytes: stat('bytes') };
    }
  } finally {
    collector.kill('SIGINT');
    await new Promise((resolve) => collector.once('exit', resolve));
  }
  return results;
}

const result = await main();
console.log(JSON.stringify(result, null, 2));
