/** One tenant: its tools' traffic, failures by class, latency and the upstream's health as the tenant sees it. */
import type { DashboardBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import type { DashboardDef } from './definition.js';
import { grafanaDashboard, tenantVariableSpec } from './panels.js';
import { FAILURE_OUTCOMES, TABLES, filters, latencyPerToolSql, quoted, varFilter } from './sql.js';

const ROLLUP = TABLES.toolCalls1m;
const SCOPE = [varFilter('tenant_id', 'tenant'), varFilter('tool', 'tool')];
const WHERE = `WHERE $__timeFilter(minute)${filters(...SCOPE)}`;

export const TENANT_UID = 'mcptrail-tenant';

/**
 * The tenant's error rate: the share of its calls with a non-ok outcome, per interval. A 7-day
 * range of it at one-minute resolution is the §4 rollup benchmark (bench/audit.js renders this
 * very panel query with Grafana's expansion).
 */
export const TENANT_ERROR_RATE_SQL = `SELECT $__timeInterval(minute) AS time, sumIf(calls, outcome IN (${quoted(FAILURE_OUTCOMES)})) / sum(calls) AS error_rate
FROM ${ROLLUP}
${WHERE}
GROUP BY time
ORDER BY time`;

/** Per-tool series of one rollup aggregate. */
const perTool = (value: string, extraWhere = '') => `SELECT $__timeInterval(minute) AS time, tool, ${value} AS value
FROM ${ROLLUP}
${WHERE}${extraWhere}
GROUP BY time, tool
ORDER BY time`;

export const TENANT: DashboardDef = {
  id: 'tenant',
  uid: TENANT_UID,
  title: 'mcptrail / Tenant',
  from: 'now-6h',
  refresh: '1m',
  variables: [
    tenantVariableSpec({ multi: false }),
    {
      name: 'tool',
      label: 'Tool',
      sql: `SELECT DISTINCT tool FROM ${ROLLUP} WHERE $__timeFilter(minute)${filters(varFilter('tenant_id', 'tenant'))} ORDER BY tool`,
    },
  ],
  panels: [
    { id: 'calls-per-second-by-tool', kind: 'timeseries', title: 'Calls per second by tool', unit: 'reqps', sql: perTool('sum(calls) / $__interval_s') },
    {
      id: 'error-rate',
      kind: 'timeseries',
      title: 'Error rate',
      description: 'Share of calls with a non-ok outcome.',
      unit: 'percentunit',
      sql: TENANT_ERROR_RATE_SQL,
    },
    {
      id: 'errors-by-class',
      kind: 'timeseries',
      title: 'Errors by class',
      description: 'Calls per second by non-ok outcome.',
      unit: 'reqps',
      sql: `SELECT $__timeInterval(minute) AS time, outcome, sum(calls) / $__interval_s AS value
FROM ${ROLLUP}
${WHERE}
  AND outcome != 'ok'
GROUP BY time, outcome
ORDER BY time`,
    },
    { id: 'latency-per-tool', kind: 'timeseries', title: 'Latency p50 / p95 / p99 per tool', unit: 'ms', sql: latencyPerToolSql(WHERE) },
    { id: 'rate-limit-hits', kind: 'timeseries', title: 'Rate-limit hits per second', unit: 'reqps', sql: perTool('sum(rate_limited) / $__interval_s') },
    {
      id: 'deadline-exhaustion',
      kind: 'timeseries',
      title: 'Deadline exhaustion',
      description: 'Share of calls that ran out of their time budget.',
      unit: 'percentunit',
      sql: perTool("sumIf(calls, outcome = 'deadline_exceeded') / sum(calls)"),
    },
    {
      id: 'auth-refreshes',
      kind: 'timeseries',
      title: 'Upstream credential refreshes and failures',
      sql: `SELECT $__timeInterval(minute) AS time, sum(auth_refresh) AS refreshes, sum(auth_refresh_failed) AS refresh_failures
FROM ${ROLLUP}
${WHERE}
GROUP BY time
ORDER BY time`,
    },
    { id: 'upstream-retries', kind: 'timeseries', title: 'Upstream retries', sql: perTool('sum(upstream_retries)') },
    {
      id: 'breaker-open',
      kind: 'timeseries',
      title: 'Circuit breaker open (calls refused)',
      description: 'Calls answered upstream_unavailable because the breaker for this tenant × upstream was open.',
      sql: perTool("sumIf(calls, outcome = 'upstream_unavailable')"),
    },
    {
      id: 'error-classes',
      kind: 'table',
      title: 'Error classes',
      description: 'From the raw audit table; the tenant is its sort-key prefix, so this stays a range read.',
      width: 24,
      sql: `SELECT tool, outcome, error_class, error_code, count() AS failed_calls, max(ts) AS last_seen
FROM ${TABLES.toolCalls}
WHERE $__timeFilter_ms(ts)${filters(...SCOPE)}
  AND outcome != 'ok'
GROUP BY tool, outcome, error_class, error_code
ORDER BY failed_calls DESC
LIMIT 50`,
    },
  ],
};

export function tenantDashboard(): DashboardBuilder {
  return grafanaDashboard(TENANT);
}
