/**
 * §4 Audit queries on generated data (10 M tool_calls over 30 days, 50
 * tenants, 200 agents, 30 tools; 2 spans for each of the newest 15 % of calls, at the calls' ts), in
 * the embedded engine, through the real audit functions (listCalls,
 * getTrace) and the dashboards' rollup SQL. Then §5 (storage) on the same data.
 *
 *   node bench/audit.js      (BENCH_ROWS=1000000 for a smaller run, BENCH_RUNS=60 for more timed rounds)
 *
 * BENCH_DATA_DIR=/some/dir keeps the generated data between runs: the first run generates into
 * that directory and records what it made (dataset.json); later runs with the same BENCH_ROWS copy
 * it to a scratch directory and measure there, so the kept copy stays as ingest left it (the
 * storage section's OPTIMIZE ... FINAL only touches the scratch copy). Timestamps are relative to
 * the generation time, so a kept data set ages: "last 24 h" sees fewer rows hours later
 * (the age is printed). Without it (the default) every run generates afresh.
 */
import { dirname, join } from 'node:path';
import { BASELINES, QUICK, dist, fmt, summarize } from './lib.js';
import { openDataset } from './dataset.js';
import { measureStorage } from './storage.js';

const ROWS = Number(process.env.BENCH_ROWS ?? (QUICK ? 1_000_000 : 10_000_000));
const SPAN_CALLS = Math.round(ROWS * 0.15); // 2 spans each: 3 M spans at 10 M rows
const RUNS = Number(process.env.BENCH_RUNS ?? (QUICK ? 10 : 25));
const DATA_DIR = process.env.BENCH_DATA_DIR;

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
  const dataset = await openDataset({ rows: ROWS, spanCalls: SPAN_CALLS, dataDir: DATA_DIR, scratchPrefix: 'mcptrail-bench-audit-', openEmbeddedStore, migrate });
  const { store, genCallsMs, genSpansMs } = dataset;
  try {
    // hex() drops leading zero bytes, so about 1 generated id in 128 is shorter than 32 characters
    // and getTrace rightly refuses it: sample only well-formed ids.
    const traceIds = (await store.query(`SELECT TraceId FROM mcptrail.otel_traces WHERE SpanKind = 'Server' AND length(TraceId) = 32 ORDER BY rand() LIMIT ${RUNS + 3}`)).map((r) => r.TraceId);
    const tenant = (i) => `tenant-${String((i * 7) % 50).padStart(2, '0')}`;
    const tool = (i) => `tool_${String((i * 11) % 30).padStart(2, '0')}`;
    // The tenant dashboard's "Error rate" panel over 7 days at 1-minute resolution, expanded as Grafana
    // expands it (variables, then macros): the very SQL the dashboard sends.
    const { TENANT_ERROR_RATE_SQL } = await import(dist('dashboards/tenant.js'));
    const { renderQuery, ALL } = await import(dist('alerts/macros.js'));
    const TOOLS = Array.from({ length: 30 }, (_, i) => `tool_${String(i).padStart(2, '0')}`);
    const errorRateSql = (i) => {
      const to = new Date();
      const from = new Date(to.getTime() - 7 * 86_400_000);
      return renderQuery(TENANT_ERROR_RATE_SQL, { from, to, intervalMs: 60_000 }, [
        { name: 'tenant', value: tenant(i) },
        { name: 'tool', value: [ALL], options: TOOLS },
      ]);
    };
    // getTrace as a tenant-scoped reader (the API with a tenant token) calls it: the tenant of the trace's call.
    const traceTenants = new Map();
    for (const id of traceIds) traceTenants.set(id, (await store.query('SELECT tenant_id FROM mcptrail.tool_calls WHERE trace_id = {id:String} LIMIT 1', { id }))[0]?.tenant_id);
    const traceOf = (i) => traceIds[i % traceIds.length];

    const queries = [
      { name: 'who ran tool X for tenant T, last 24 h (`listCalls({ tool, tenant, since: "24h", limit: 100 })`)', scope: 'tenant', run: (i) => listCalls(store, { tool: tool(i), tenant: tenant(i), since: '24h', limit: 100 }) },
      { name: 'who ran tool X anywhere, last 7 d (`listCalls({ tool, since: "7d", limit: 100 })`)', scope: 'fleet', run: (i) => listCalls(store, { tool: tool(i), since: '7d', limit: 100 }) },
      { name: 'one trace by id (`getTrace`: spans + its audit records)', scope: 'tenant', run: (i) => getTrace(store, traceOf(i)) },
      ...(before ? [{ name: `one trace by id, build \`${BASELINES[0].name}\` (BENCH_BASELINE)`, scope: 'tenant', run: (i) => before.getTrace(store, traceOf(i)) }] : []),
      { name: 'one trace by id, tenant-scoped (`getTrace(id, { tenant })`, as the API reads it for a tenant token)', scope: 'tenant', run: (i) => getTrace(store, traceOf(i), { tenant: traceTenants.get(traceOf(i)) }) },
      ...(before ? [{ name: `one trace by id, tenant-scoped, build \`${BASELINES[0].name}\` (BENCH_BASELINE)`, scope: 'tenant', run: (i) => before.getTrace(store, traceOf(i), { tenant: traceTenants.get(traceOf(i)) }) }] : []),
      { name: "one tenant's error rate per minute over 7 d (rollup: the tenant dashboard's \"Error rate\" panel, Grafana-expanded)", scope: 'tenant', run: (i) => store.query(errorRateSql(i)) },
      { name: 'who ran tool X for tenant T, last 7 d, grouped by agent (raw table)', scope: 'tenant', run: (i) => store.query(`SELECT agent_id, count() AS calls, countIf(outcome != 'ok') AS failed FROM mcptrail.tool_calls WHERE tenant_id = {tenant:String} AND tool = {tool:String} AND ts >= now64(3) - INTERVAL 7 DAY GROUP BY agent_id ORDER BY calls DESC`, { tenant: tenant(i), tool: tool(i) }) },
    ];
    // Interleaved: every round runs each query once, in a shuffled order, so machine noise (and cache
    // warmth) falls on all of them alike and before/after rows compare within the same rounds.
    const timings = queries.map(() => ({ ms: [], rows: 0 }));
    for (let i = 0; i < 3; i++) for (const q of queries) await q.run(i + 100); // warm-up
    for (let i = 0; i < RUNS; i++) {
      const order = queries.map((_, k) => k).sort(() => Math.random() - 0.5);
      for (const k of order) {
        const s = performance.now();
        const r = await queries[k].run(i);
        timings[k].ms.push(performance.now() - s);
        timings[k].rows += Array.isArray(r) ? r.length : r.spans.length + r.calls.length;
      }
    }
    const results = queries.map((q, k) => {
      const s = summarize(timings[k].ms);
      const goal = q.scope === 'tenant' ? 50 : 200;
      return { name: q.name, scope: q.scope, runs: RUNS, p50: s.p50, p95: s.p95, max: s.max, avgRows: timings[k].rows / RUNS, goalMs: goal, met: s.p95 <= goal };
    });
    const [counts] = await store.query('SELECT (SELECT count() FROM mcptrail.tool_calls) AS calls, (SELECT count() FROM mcptrail.otel_traces) AS spans, (SELECT count() FROM mcptrail.tool_calls_1m) AS rollup');
    const storage = await measureStorage(store);
    return { rows: ROWS, spans: Number(counts.spans), rollupRows: Number(counts.rollup), genCallsMs, genSpansMs, queries: results, storage };
  } finally {
    await dataset.close();
  }
}

export function table(result) {
  const lines = [
    `Data: ${result.rows.toLocaleString('en-US')} tool_calls (generated in ${fmt(result.genCallsMs / 1000, 1)} s), ${result.spans.toLocaleString('en-US')} spans (${fmt(result.genSpansMs / 1000, 1)} s), ${result.rollupRows.toLocaleString('en-US')} rollup rows; embedded engine, timed from JS (driver included), parameters varied per run, queries interleaved (shuffled each round), unmerged parts as ingest leaves them.`,
    '',
    '| query | scope | runs | p50 ms | p95 ms | max ms | rows returned (avg) | goal |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const q of result.queries) lines.push(`| ${q.name} | ${q.scope} | ${q.runs} | ${fmt(q.p50, 1)} | ${fmt(q.p95, 1)} | ${fmt(q.max, 1)} | ${fmt(q.avgRows, 0)} | ${q.met ? 'met' : '**missed**'} (p95 ≤ ${q.goalMs} ms) |`);
  return lines.join('\n');
}
