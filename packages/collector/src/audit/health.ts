/**
 * A tenant's health over a window, for `GET /api/tenants/:tenant/health` and
 * the `audit_tenant_health` MCP tool: volume, error rate (the tenant error-rate
 * alert's definition: system errors and open circuits), failure rate (any
 * outcome but ok), p95 latency, the tools failing most, and the alerts firing
 * for the tenant now (the built-in evaluator's state, as `GET /api/alerts`).
 *
 * Read from the per-minute rollup, as the dashboards do, so a week costs about
 * what an hour does.
 */
import { OUTCOMES } from 'mcptrail/record';
import { selectAlerts, type AlertsSource } from '../alerts/api.js';
import { SERVER_ERROR_OUTCOMES } from '../alerts/rules.js';
import type { AlertView } from '../alerts/evaluator.js';
import { TABLES, type Store } from '../store/index.js';
import { parseSince } from './since.js';

/** Outcomes whose latency says something about the tool (the dashboards' and the p99 rule's choice). */
const LATENCY_OUTCOMES = ['ok', 'tool_error'];
const TOP_TOOLS = 5;

export interface ToolHealth {
  tool: string;
  calls: number;
  failures: number;
  failureRate: number;
  p95Ms: number | null;
}

export interface TenantHealth {
  tenant: string;
  /** The window, e.g. `1h`, and its bounds (ISO 8601, minute-aligned as the rollup is). */
  window: string;
  from: string;
  to: string;
  calls: number;
  /** Share of calls that ended in a platform error (SERVER_ERROR_OUTCOMES), 0..1; null without calls. */
  errorRate: number | null;
  /** Share of calls with any outcome but ok. */
  failureRate: number | null;
  p95Ms: number | null;
  outcomes: Record<string, number>;
  /** The tools with the most failures, most first (at most 5, only tools that failed). */
  topFailingTools: ToolHealth[];
  firingAlerts: AlertView[];
}

const quoted = (values: readonly string[]) => values.map((v) => `'${v}'`).join(', ');

export async function tenantHealth(store: Store, tenant: string, opts: { window?: string; alerts?: AlertsSource; nowMs?: number } = {}): Promise<TenantHealth> {
  const window = opts.window ?? '1h';
  const seconds = parseSince(window);
  const toMs = opts.nowMs ?? Date.now();
  const fromMs = Math.floor((toMs - seconds * 1000) / 60_000) * 60_000;
  const params = { tenant, fromMs, toMs };
  const where = `tenant_id = {tenant:String} AND minute >= toDateTime(intDiv({fromMs:Int64}, 1000), 'UTC') AND minute <= toDateTime(intDiv({toMs:Int64}, 1000), 'UTC')`;
  const latency = `outcome IN (${quoted(LATENCY_OUTCOMES)})`;
  // Aliases differ from column names: ClickHouse would read `calls` inside sumIf as the alias.
  const perTool = await store.query<{ tool: string; n: number; failures: number; p95: number | null }>(
    `SELECT tool, sum(calls) AS n, sumIf(calls, outcome != 'ok') AS failures,
            if(sumIf(calls, ${latency}) = 0, NULL, quantilesTDigestMergeIf(0.95)(duration_ms_quantiles, ${latency})[1]) AS p95
     FROM ${TABLES.toolCalls1m} WHERE ${where} GROUP BY tool`,
    params,
  );
  const perOutcome = await store.query<{ outcome: string; n: number }>(
    `SELECT outcome, sum(calls) AS n FROM ${TABLES.toolCalls1m} WHERE ${where} GROUP BY outcome`,
    params,
  );
  const [overall] = await store.query<{ p95: number | null }>(
    `SELECT if(sum(calls) = 0, NULL, quantilesTDigestMerge(0.95)(duration_ms_quantiles)[1]) AS p95 FROM ${TABLES.toolCalls1m} WHERE ${where} AND ${latency}`,
    params,
  );
  const outcomes: Record<string, number> = Object.fromEntries(OUTCOMES.map((o) => [o, 0]));
  let calls = 0;
  for (const r of perOutcome) {
    outcomes[r.outcome] = (outcomes[r.outcome] ?? 0) + Number(r.n);
    calls += Number(r.n);
  }
  const serverErrors = SERVER_ERROR_OUTCOMES.reduce((n, o) => n + (outcomes[o] ?? 0), 0);
  const topFailingTools = perTool
    .map((t) => ({ tool: t.tool, calls: Number(t.n), failures: Number(t.failures), p95Ms: t.p95 === null ? null : round(Number(t.p95)) }))
    .filter((t) => t.failures > 0)
    .sort((a, b) => b.failures - a.failures || a.tool.localeCompare(b.tool))
    .slice(0, TOP_TOOLS)
    .map((t) => ({ ...t, failureRate: t.failures / t.calls }));
  const firingAlerts = selectAlerts(opts.alerts, { tenant, state: 'firing' }).alerts;
  return {
    tenant,
    window,
    from: new Date(fromMs).toISOString(),
    to: new Date(toMs).toISOString(),
    calls,
    errorRate: calls > 0 ? serverErrors / calls : null,
    failureRate: calls > 0 ? (calls - (outcomes.ok ?? 0)) / calls : null,
    p95Ms: overall?.p95 === null || overall?.p95 === undefined ? null : round(Number(overall.p95)),
    outcomes,
    topFailingTools,
    firingAlerts,
  };
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
