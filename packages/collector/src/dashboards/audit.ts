/** Audit: which agent ran which tool for which tenant, with what outcome, and a link into the call's trace. */
import { DashboardBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import { OUTCOMES } from 'mcptrail/record';
import { baseDashboard, customVariable, queryVariable, table, tenantVariable } from './panels.js';
import { TABLES, filters, varFilter } from './sql.js';
import { traceDataLink } from './trace.js';

const RAW = TABLES.toolCalls;
const SCOPE = [varFilter('tenant_id', 'tenant'), varFilter('agent_id', 'agent'), varFilter('tool', 'tool'), varFilter('outcome', 'outcome')];

export const AUDIT_UID = 'mcptrail-audit';

export function auditDashboard(): DashboardBuilder {
  return baseDashboard({ title: 'mcptrail / Audit', uid: AUDIT_UID, tags: ['audit'], from: 'now-1h' })
    .withVariable(tenantVariable())
    .withVariable(
      queryVariable({
        name: 'agent',
        label: 'Agent',
        sql: `SELECT DISTINCT agent_id FROM ${RAW} WHERE $__timeFilter_ms(ts)${filters(varFilter('tenant_id', 'tenant'))} ORDER BY agent_id LIMIT 1000`,
      }),
    )
    .withVariable(
      queryVariable({
        name: 'tool',
        label: 'Tool',
        sql: `SELECT DISTINCT tool FROM ${TABLES.toolCalls1m} WHERE $__timeFilter(minute)${filters(varFilter('tenant_id', 'tenant'))} ORDER BY tool`,
      }),
    )
    .withVariable(customVariable('outcome', 'Outcome', OUTCOMES))
    .withPanel(
      table({
        title: 'Tool calls',
        description: 'Newest first, at most 500. Click a trace id to open the trace.',
        width: 24,
        height: 14,
        sql: `SELECT ts, tenant_id, agent_id, tool, tool_version, outcome, error_class, error_code, duration_ms,
       upstream_calls, upstream_retries, rate_limit_budget, idempotent_replay, trace_id, call_id
FROM ${RAW}
WHERE $__timeFilter_ms(ts)${filters(...SCOPE)}
ORDER BY ts DESC
LIMIT 500`,
      }).overrideByName('trace_id', [{ id: 'links', value: [traceDataLink()] }]),
    )
    .withPanel(
      table({
        title: 'Calls by agent',
        width: 24,
        sql: `SELECT agent_id, tenant_id, count() AS total_calls, countIf(outcome != 'ok') AS failed_calls,
       uniqExact(tool) AS tools_used, max(ts) AS last_call
FROM ${RAW}
WHERE $__timeFilter_ms(ts)${filters(...SCOPE)}
GROUP BY agent_id, tenant_id
ORDER BY total_calls DESC
LIMIT 100`,
      }),
    );
}
