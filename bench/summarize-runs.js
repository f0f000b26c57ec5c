/**
 * Median (min–max) across runs of one section, for the figures in BENCHMARKS.md:
 *   node bench/summarize-runs.js http run1.json run2.json run3.json
 *   node bench/summarize-runs.js overhead run1.json run2.json run3.json
 * Each file is what `node bench/http.js` / `node bench/overhead.js` print on stdout.
 */
import { readFileSync } from 'node:fs';
import { fmt } from './lib.js';

const [section, ...files] = process.argv.slice(2);
const runs = files.map((f) => JSON.parse(readFileSync(f, 'utf8')));
const med = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const cell = (xs, digits = 1, scale = 1) => {
  const v = xs.map((x) => x * scale);
  return `${fmt(med(v), digits)} (${fmt(Math.min(...v), digits)}–${fmt(Math.max(...v), digits)})`;
};
const variants = Object.keys(runs[0].rows);
const col = (v, key) => runs.map((r) => r.rows[v][key]);

if (section === 'http') {
  console.log(`runs: ${runs.length}; load average (1 min) at start/end of each: ${runs.map((r) => r.load1?.map((x) => x.toFixed(1)).join('/')).join(', ')}`);
  console.log('| server | calls/s | ÷ bare | p50 ms | p99 ms | server CPU µs/call | CPU over bare µs/call | errors | records/call | spans/call |');
  console.log('|---|---|---|---|---|---|---|---|---|---|');
  for (const v of variants) {
    const ratio = v === 'bare' ? '—' : `**${cell(runs.map((r) => r.ratios[v]), 1, 100)} %**`;
    const over = v === 'bare' ? '—' : cell(runs.map((r) => r.rows[v].serverCpuUsPerCall - r.rows.bare.serverCpuUsPerCall), 0);
    const errors = col(v, 'errors').reduce((a, b) => a + b, 0);
    console.log(`| ${v} | ${cell(col(v, 'callsPerSec'), 0)} | ${ratio} | ${cell(col(v, 'p50Ms'), 2)} | ${cell(col(v, 'p99Ms'), 1)} | ${cell(col(v, 'serverCpuUsPerCall'), 0)} | ${over} | ${errors} | ${fmt(med(col(v, 'recordsPerCall')), 2)} | ${fmt(med(col(v, 'spansPerCall')), 2)} |`);
  }
} else if (section === 'overhead') {
  console.log(`runs: ${runs.length}, ${runs[0].rounds} rounds of ${runs[0].perRound} calls each`);
  console.log('| variant | p50 µs | added p50 µs (paired) | CPU µs/call | added CPU µs/call | added CPU ÷ bare OTel span | spans/call | records/call |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const v of variants) {
    const span = runs.map((r) => r.rows[v].addedCpu / r.rows['otel-span'].addedCpu);
    console.log(`| ${v} | ${cell(col(v, 'p50'))} | ${v === 'bare' ? '—' : cell(col(v, 'addedP50Paired'))} | ${cell(col(v, 'cpuPerCallUs'))} | ${v === 'bare' ? '—' : cell(col(v, 'addedCpu'))} | ${v === 'bare' ? '—' : `${cell(span, 2)}×`} | ${fmt(med(col(v, 'spansPerCall')), 2)} | ${fmt(med(col(v, 'recordsPerCall')), 2)} |`);
  }
} else throw new Error('section: http or overhead');
