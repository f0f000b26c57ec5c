/**
 * §4 Audit queries on generated data (10 M tool_calls over 30 days, 50
 * tenants, 200 agents, 30 tools; 2 spans for each of the newest 15 % of calls, at the calls' ts), in
 * the embedded engine, through the real audit functions (listCalls,
 * getTrace) and the dashboards' rollup SQL. Then §5 (storage) on the same data.
 *
 *   node bench/audit.js      (BENCH_ROWS=1000000 for a smaller run)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dirname } from 'node:path';
import { BASELINES, QUICK, dist, fmt, summarize } from './lib.js';
import { spansInsert, toolCallsInsert } from './dataset.js';
import { measureStorage } from './storage.js';

const ROWS = Number(process.env.BENCH_ROWS ?? (QUICK ? 1_000_000 : 10_000_000));
const SPAN_CALLS = Math.round(ROWS * 0.15); // 2 spans each: 3 M spans at 10 M rows
const RUNS = QUICK ? 10 : 25;

if (import.meta.url === `file://${process.argv[1]}`) {
  const result = await main();
  console.log(JSON.stringify(result, null, 2));
  process.send?.({ result });
}

async function main() {
  const { openEmbeddedStore, migrate } = await import(dist('store/index.js'));
  const { listCalls, getTrace } = await import(dist('audit/index.js'));
  // With BENCH_BASELINE, the first build's getTrace runs on the same data too (before → after in one run).
  const before = BASELINES[0] ? await import(join(dirname(BASELINES[0].path), 'audit/index.js')) : undefined;
  const dir = mkdtempSync(join(tmpdir(), 'mcptrail-bench-audit-'));
  const store = await openEmbeddedStore(join(dir, 'clickhouse'));
  try {
    await migrate(store);
    const t0 = performance.now();
    await store.exec(toolCallsInsert(ROWS));
    const genCallsMs = performance.now() - t0;
    const t1 = performance.now();
    for (const sql of spansInsert(SPAN_CALLS, ROWS)) await store.exec(sql);
    const genSpansMs = performance.now() - t1;

    // hex() drops leading zero bytes, so about 1 generated id in 128 is shorter than 32 characters
    // and getTrace rightly refuses it: sample only well-formed ids.
    const traceIds = (await store.query(`SELECT TraceId FROM mcptrail.otel_traces WHERE SpanKind = 'Server' AND length(TraceId) = 32 ORDER BY rand() LIMIT ${RUNS + 3}`)).map((r) => r.TraceId);
    const tenant = (i) => `tenant-${String((i * 7) % 50).padStart(2, '0')}`;
    const tool = (i) => `tool_${String((i * 11) % 30).padStart(2, '0')}`;
    const FAILURES = "'tool_error','system_error','deadline_exceeded','rate_limited','denied','unauthenticated','upstream_unavailable'";
    // The tenant dashboard's error-rate panel at 1-minute resolution ($__timeInterval(minute) → minute).
    const errorRateSql = `
SELECT minute AS time, sumIf(calls, outcome IN (${FAILURES})) / sum(calls) AS error_rate
FROM mcptrail.tool_calls_1m
WHERE minute >= now() - INTERVAL 7 DAY AND minute <= now() AND tenant_id IN ({tenant:String})
GROUP BY time
ORDER BY time`;

    const queries = [
      { name: 'who ran tool X for tenant T, last 24 h (`listCalls({ tool, tenant, since: "24h", limit: 100 })`)', scope: 'tenant', run: (i) => listCalls(store, { tool: tool(i), tenant: tenant(i), since: '24h', limit: 100 }) },
      { name: 'who ran tool X anywhere, last 7 d (`listCalls({ tool, since: "7d", limit: 100 })`)', scope: 'fleet', run: (i) => listCalls(store, { tool: tool(i), since: '7d', limit: 100 }) },
      { name: 'one trace by id (`getTrace`: spans + its audit records)', scope: 'tenant', run: (i) => getTrace(store, traceIds[i % traceIds.length]) },
      ...(before ? [{ name: `one trace by id, build \`${BASELINES[0].name}\` (BENCH_BASELINE)`, scope: 'tenant', run: (i) => before.getTrace(store, traceIds[i % traceIds.length]) }] : []),
      { name: "one tenant's error rate per minute over 7 d (rollup, dashboard SQL)", scope: 'tenant', run: (i) => store.query(errorRateSql, { tenant: tenant(i) }) },
      { name: 'who ran tool X for tenant T, last 7 d, grouped by agent (raw table)', scope: 'tenant', run: (i) => store.query(`SELECT agent_id, count() AS calls, countIf(outcome != 'ok') AS failed FROM mcptrail.tool_calls WHERE tenant_id = {tenant:String} AND tool = {tool:String} AND ts >= now64(3) - INTERVAL 7 DAY GROUP BY agent_id ORDER BY calls DESC`, { tenant: tenant(i), tool: tool(i) }) },
    ];
    const results = [];
    for (const q of queries) {
      for (let i = 0; i < 3; i++) await q.run(i + 100); // warm-up
      const ms = [];
      let rows = 0;
      for (let i = 0; i < RUNS; i++) {
        const s = performance.now();
        const r = await q.run(i);
        ms.push(performance.now() - s);
        rows += Array.isArray(r) ? r.length : r.spans.length + r.calls.length;
      }
      const s = summarize(ms);
      const goal = q.scope === 'tenant' ? 50 : 200;
      results.push({ name: q.name, scope: q.scope, runs: RUNS, p50: s.p50, p95: s.p95, max: s.max, avgRows: rows / RUNS, goalMs: goal, met: s.p95 <= goal });
    }
    const [counts] = await store.query('SELECT (SELECT count() FROM mcptrail.tool_calls) AS calls, (SELECT count() FROM mcptrail.otel_traces) AS spans, (SELECT count() FROM mcptrail.tool_calls_1m) AS rollup');
    const storage = await measureStorage(store);
    return { rows: ROWS, spans: Number(counts.spans), rollupRows: Number(counts.rollup), genCallsMs, genSpansMs, queries: results, storage };
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export function table(result) {
  const lines = [
    `Data: ${result.rows.toLocaleString('en-US')} tool_calls (generated in ${fmt(result.genCallsMs / 1000, 1)} s), ${result.spans.toLocaleString('en-US')} spans (${fmt(result.genSpansMs / 1000, 1)} s), ${result.rollupRows.toLocaleString('en-US')} rollup rows; embedded engine, timed from JS (driver included), parameters varied per run, unmerged parts as ingest leaves them.`,
    '',
    '| query | scope | runs | p50 ms | p95 ms | max ms | rows returned (avg) | goal |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const q of result.queries) lines.push(`| ${q.name} | ${q.scope} | ${q.runs} | ${fmt(q.p50, 1)} | ${fmt(q.p95, 1)} | ${fmt(q.max, 1)} | ${fmt(q.avgRows, 0)} | ${q.met ? 'met' : '**missed**'} (p95 ≤ ${q.goalMs} ms) |`);
  return lines.join('\n');
}
