/** Fleet overview: is the MCP fleet healthy, and if not, which tenants and tools hurt. Reads the rollup only. */
import type { DashboardBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import type { DashboardDef } from './definition.js';
import { grafanaDashboard, tenantVariableSpec } from './panels.js';
import { FAILURE_OUTCOMES, TABLES, filters, latencyPerToolSql, quoted, varFilter } from './sql.js';

const ROLLUP = TABLES.toolCalls1m;
const WHERE = `WHERE $__timeFilter(minute)${filters(varFilter('tenant_id', 'tenant'), varFilter('tool', 'tool'))}`;

export const FLEET_UID = 'mcptrail-fleet';

export const FLEET: DashboardDef = {
  id: 'fleet',
  uid: FLEET_UID,
  title: 'mcptrail / Fleet overview',
  from: 'now-6h',
  refresh: '1m',
  variables: [
    tenantVariableSpec(),
    { name: 'tool', label: 'Tool', sql: `SELECT DISTINCT tool FROM ${ROLLUP} WHERE $__timeFilter(minute) ORDER BY tool` },
  ],
  panels: [
    {
      id: 'calls-per-second',
      kind: 'timeseries',
      title: 'Calls per second',
      unit: 'reqps',
      sql: `SELECT $__timeInterval(minute) AS time, sum(calls) / $__interval_s AS calls_per_second
FROM ${ROLLUP}
${WHERE}
GROUP BY time
ORDER BY time`,
    },
    {
      id: 'error-rate-by-outcome',
      kind: 'timeseries',
      title: 'Error rate by outcome',
      description: 'Share of all calls that ended with each non-ok outcome.',
      unit: 'percentunit',
      sql: `SELECT time, outcome, outcome_calls / all_calls AS share
FROM (
  SELECT $__timeInterval(minute) AS time, outcome, sum(calls) AS outcome_calls,
         sum(sum(calls)) OVER (PARTITION BY time) AS all_calls
  FROM ${ROLLUP}
  ${WHERE}
  GROUP BY time, outcome
)
WHERE outcome != 'ok'
ORDER BY time`,
    },
    {
      id: 'latency-per-tool',
      kind: 'timeseries',
      title: 'Latency p50 / p95 / p99 per tool',
      unit: 'ms',
      width: 24,
      sql: latencyPerToolSql(WHERE),
    },
    {
      id: 'top-tenants-by-errors',
      kind: 'table',
      title: 'Top tenants by errors',
      sql: `SELECT tenant_id, sumIf(calls, outcome IN (${quoted(FAILURE_OUTCOMES)})) AS errors, sum(calls) AS total_calls,
       errors / total_calls AS error_rate
FROM ${ROLLUP}
${WHERE}
GROUP BY tenant_id
ORDER BY errors DESC, tenant_id
LIMIT 10`,
    },
    {
      id: 'top-tools-by-errors',
      kind: 'table',
      title: 'Top tools by errors',
      sql: `SELECT tool, sumIf(calls, outcome IN (${quoted(FAILURE_OUTCOMES)})) AS errors, sum(calls) AS total_calls,
       errors / total_calls AS error_rate
FROM ${ROLLUP}
${WHERE}
GROUP BY tool
ORDER BY errors DESC, tool
LIMIT 10`,
    },
  ],
};

export function fleetDashboard(): DashboardBuilder {
  return grafanaDashboard(FLEET);
}
