/**
 * §7 Console first render: each console page in Debian's Chromium (headless, driven by
 * playwright-core) against the collector on the §4 data set (10 M tool_calls, 3 M spans), plus
 * the size of the built bundle.
 *
 *   node bench/console.js     (BENCH_DATA_DIR keeps the data set, as for §4; BENCH_CONSOLE_RUNS=5)
 *
 * First render = from the navigation's start to the first animation frame in which the page's
 * main element is there and no part of it is loading (every panel drawn or empty), read as
 * performance.now() inside the page. Each run opens the page in a fresh browser context (empty
 * cache, no cookies); pages are interleaved in a shuffled order each round, after one warm-up
 * round. The collector runs in this process on the embedded engine, as `mcptrail up` runs it.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { gzipSync, brotliCompressSync } from 'node:zlib';
import { chromium } from 'playwright-core';
import { QUICK, ROOT, dist, fmt, median, shuffle } from './lib.js';
import { openDataset } from './dataset.js';

const ROWS = Number(process.env.BENCH_ROWS ?? (QUICK ? 1_000_000 : 10_000_000));
const SPAN_CALLS = Math.round(ROWS * 0.15);
const RUNS = Number(process.env.BENCH_CONSOLE_RUNS ?? (QUICK ? 3 : 5));
const CHROMIUM = process.env.MCPTRAIL_CHROMIUM ?? '/usr/bin/chromium';
const CONSOLE_DIST = join(ROOT, 'packages', 'console', 'dist');

if (import.meta.url === `file://${process.argv[1]}`) {
  const result = await main();
  console.log(JSON.stringify(result, null, 2));
  process.send?.({ result });
}

function bundleSize() {
  const assets = join(CONSOLE_DIST, 'assets');
  const files = readdirSync(assets).map((f) => join(assets, f));
  files.push(join(CONSOLE_DIST, 'index.html'));
  let raw = 0;
  let gzip = 0;
  let brotli = 0;
  for (const f of files) {
    const body = readFileSync(f);
    raw += statSync(f).size;
    gzip += gzipSync(body, { level: 9 }).length;
    brotli += brotliCompressSync(body).length;
  }
  return { files: files.length, raw, gzip, brotli };
}

async function main() {
  const { openEmbeddedStore, migrate } = await import(dist('store/index.js'));
  const { createCollector } = await import(dist('collector/index.js'));
  const { AlertEvaluator } = await import(dist('alerts/index.js'));
  const dataset = await openDataset({ rows: ROWS, spanCalls: SPAN_CALLS, dataDir: process.env.BENCH_DATA_DIR, scratchPrefix: 'mcptrail-bench-console-', openEmbeddedStore, migrate });
  const { store } = dataset;
  // The alert rules evaluated once over the data set, so /alerts shows what they see.
  const evaluator = new AlertEvaluator({ store });
  await evaluator.evaluate(new Date());
  const collector = await createCollector({ store, readToken: '', readTokens: {}, alerts: evaluator, console: { distDir: CONSOLE_DIST } });
  await collector.app.listen({ host: '127.0.0.1', port: 0 });
  const base = `http://127.0.0.1:${collector.app.server.address().port}`;
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
  });
  try {
    const [trace] = await store.query(
      "SELECT TraceId AS id FROM mcptrail.otel_traces WHERE SpanKind = 'Server' AND length(TraceId) = 32 AND Timestamp > now() - INTERVAL 1 DAY ORDER BY Timestamp DESC LIMIT 1",
    );
    const pages = [
      { name: 'fleet overview (default range, 6 h)', path: '/' },
      { name: 'tenant dashboard (default range, 6 h)', path: '/tenants/tenant-07' },
      { name: 'calls (default: last hour, 50 rows)', path: '/calls' },
      { name: 'trace (spans + record)', path: `/traces/${trace.id}` },
      { name: 'alerts', path: '/alerts' },
      { name: 'fleet overview, 30 d', path: '/?since=30d' },
      { name: 'tenant dashboard, 30 d', path: '/tenants/tenant-07?since=30d' },
      { name: 'calls of one tool, 7 d', path: '/calls?tool=tool_03&since=7d' },
    ];
    const render = async (path) => {
      const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
      try {
        const page = await context.newPage();
        await page.goto(base + path);
        const handle = await page.waitForFunction(
          () =>
            !!document.querySelector('main[data-page]') &&
            document.querySelectorAll('[data-state]').length > 0 &&
            document.querySelectorAll('[data-state=loading]').length === 0 &&
            document.querySelectorAll('[data-state=error]').length === 0 &&
            performance.now(),
          null,
          { polling: 'raf', timeout: 60_000 },
        );
        return await handle.jsonValue();
      } finally {
        await context.close();
      }
    };
    const loadBefore = loadavg()[0];
    for (const p of pages) await render(p.path); // warm-up round (browser process, engine caches)
    const timings = pages.map(() => []);
    for (let r = 0; r < RUNS; r++) {
      for (const k of shuffle(pages.map((_, i) => i))) timings[k].push(await render(pages[k].path));
    }
    return {
      rows: ROWS,
      runs: RUNS,
      chromium: browser.version(),
      // The machine is shared: the 1-minute load average before and after the timed rounds.
      load: [loadBefore, loadavg()[0]],
      pages: pages.map((p, k) => ({ name: p.name, path: p.path.replace(/[0-9a-f]{32}/, '<id>'), median: median(timings[k]), min: Math.min(...timings[k]), max: Math.max(...timings[k]) })),
      bundle: bundleSize(),
    };
  } finally {
    await browser.close();
    await collector.close();
    await evaluator.stop();
    await dataset.close();
  }
}

const kb = (n) => `${fmt(n / 1024, 1)} KiB`;

export function table(result) {
  const b = result.bundle;
  const lines = [
    `Data: the §4 data set (${result.rows.toLocaleString('en-US')} tool_calls); Chromium ${result.chromium} headless; ${result.runs} runs per page, each in a fresh browser context, pages interleaved; 1-minute load average ${fmt(result.load[0], 1)} before, ${fmt(result.load[1], 1)} after (2 cores); goal: first render ≤ 1,000 ms.`,
    '',
    '| page | URL | median ms | min ms | max ms | goal |',
    '|---|---|---|---|---|---|',
  ];
  for (const p of result.pages) lines.push(`| ${p.name} | \`${p.path}\` | ${fmt(p.median, 0)} | ${fmt(p.min, 0)} | ${fmt(p.max, 0)} | ${p.median <= 1000 ? 'met' : '**missed**'} |`);
  lines.push('', `Bundle (\`packages/console/dist\`, ${b.files} files): ${kb(b.raw)} raw, ${kb(b.gzip)} gzip, ${kb(b.brotli)} brotli.`);
  return lines.join('\n');
}
