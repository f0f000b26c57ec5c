/**
 * The alert rules, defined once. Grafana's file provisioning
 * (dashboards/provisioning/alerting/rules.yaml), the built-in evaluator and the
 * incidents dashboard all read them from here.
 *
 * Every rule's query returns one row per series: the label columns (strings,
 * exactly the GROUP BY columns, so label sets are unique per row) and one
 * numeric column `value`. Windows end a minute before "now" and are wider
 * than the signal needs, because records reach ClickHouse late (shipper batching).
 */
import { TABLES } from '../store/schema.js';
import { ALERT_TABLES } from './tables.js';

export type Severity = 'critical' | 'warning';
export type ThresholdType = 'gt' | 'lt';

export interface AlertRule {
  uid: string;
  /** Also the `alertname` label, as Grafana does. */
  title: string;
  /** The query (Grafana data A): table format, label columns + `value`. */
  sql: string;
  /** The label columns the query groups by. */
  labelColumns: readonly string[];
  /** Evaluation window relative to now, in seconds: [now - from, now - to] (Grafana's relativeTimeRange). */
  window: { from: number; to: number };
  threshold: { type: ThresholdType; value: number };
  /** How long the condition must hold before the alert fires, in seconds. */
  forSeconds: number;
  severity: Severity;
  /** Static labels added to every series of the rule. */
  labels: Readonly<Record<string, string>>;
  /** Go-template summary, rendered by Grafana and by the evaluator ($labels.x, $values.B.Value). */
  summary: string;
  description: string;
  /** The rule's signal over time (label columns, `time`, `value`), for the incidents dashboard. */
  signalSql: string;
  /** Unit of `value` for dashboards (Grafana unit id). */
  unit: string;
}

/** Failures that are the platform's fault (not the agent's, not the business's); deadline exhaustion pages on its own rule. */
export const SERVER_ERROR_OUTCOMES = ['system_error', 'upstream_unavailable'] as const;

const inList = (values: readonly string[]) => values.map((v) => `'${v}'`).join(', ');

interface GroupedQuery {
  table: string;
  /** The time macro and column the table is pruned by (its sort key's time column). */
  timeFilter: string;
  timeColumn: string;
  labels: readonly string[];
  value: string;
  where?: string;
  having?: string;
}

/** The verdict query (for the alert) and the trend query (for the dashboard), built from the same parts. */
function grouped(q: GroupedQuery): { sql: string; signalSql: string; labelColumns: readonly string[] } {
  const where = `WHERE ${q.timeFilter}${q.where ? `\n  AND ${q.where}` : ''}`;
  const having = q.having ? `\nHAVING ${q.having}` : '';
  const labels = q.labels.join(', ');
  return {
    labelColumns: q.labels,
    sql: `SELECT ${labels}, ${q.value} AS value\nFROM ${q.table}\n${where}\nGROUP BY ${labels}${having}`,
    // No volume gate on the trend: per-bucket volumes are a fraction of the window's, and the panel should show quiet series too.
    signalSql:
      `SELECT $__timeInterval(${q.timeColumn}) AS time, ${labels}, ${q.value} AS value\nFROM ${q.table}\n${where}\n` +
      `GROUP BY time, ${labels}\nORDER BY time`,
  };
}

const rollup = (q: Omit<GroupedQuery, 'table' | 'timeFilter' | 'timeColumn'>) =>
  grouped({ ...q, table: TABLES.toolCalls1m, timeFilter: '$__timeFilter(minute)', timeColumn: 'minute' });

/** [now-6m, now-1m]: five complete-ish minutes, one minute of slack for ingestion lag. */
const RECENT = { from: 360, to: 60 } as const;

export const deadlineExhaustion: AlertRule = {
  uid: 'mcptrail-deadline-exhaustion',
  title: 'MCP deadline exhaustion',
  ...rollup({
    labels: ['tenant_id', 'tool'],
    value: "sumIf(calls, outcome = 'deadline_exceeded') / sum(calls)",
    having: 'sum(calls) >= 20',
  }),
  window: RECENT,
  threshold: { type: 'gt', value: 0.1 },
  forSeconds: 120,
  severity: 'critical',
  labels: { team: 'mcp', signal: 'deadline' },
  summary: '{{ $labels.tool }} for tenant {{ $labels.tenant_id }}: {{ humanizePercentage $values.B.Value }} of calls ran out of budget',
  description: 'The upstream is slower than the call budget allows; agents see deadline_exceeded.',
  unit: 'percentunit',
};

export const authRefreshFailures: AlertRule = {
  uid: 'mcptrail-auth-refresh-failures',
  title: 'MCP auth refresh failures',
  ...rollup({ labels: ['tenant_id'], value: 'sum(auth_refresh_failed)' }),
  window: RECENT,
  threshold: { type: 'gt', value: 0 },
  forSeconds: 60,
  severity: 'critical',
  labels: { team: 'mcp', signal: 'auth' },
  summary: 'Tenant {{ $labels.tenant_id }}: {{ $values.B.Value }} upstream credential refreshes failed',
  description: 'The tenant\'s refresh token was probably revoked or expired; its tools cannot reach the upstream until it re-authorises.',
  unit: 'short',
};

export const tenantErrorRate: AlertRule = {
  uid: 'mcptrail-tenant-error-rate',
  title: 'MCP tenant error rate',
  ...rollup({
    labels: ['tenant_id'],
    value: `sumIf(calls, outcome IN (${inList(SERVER_ERROR_OUTCOMES)})) / sum(calls)`,
    // A handful of calls is no rate: two failures out of three would page at night.
    having: 'sum(calls) >= 50',
  }),
  window: RECENT,
  threshold: { type: 'gt', value: 0.05 },
  forSeconds: 120,
  severity: 'critical',
  labels: { team: 'mcp', signal: 'errors' },
  summary: 'Tenant {{ $labels.tenant_id }}: {{ humanizePercentage $values.B.Value }} of calls failed (system errors, circuit open)',
  description: 'Server-side failures for one tenant. Deadline exhaustion alerts separately, so one incident pages once.',
  unit: 'percentunit',
};

export const rateLimitSaturation: AlertRule = {
  uid: 'mcptrail-rate-limit-saturation',
  title: 'MCP rate-limit saturation',
  ...rollup({ labels: ['tenant_id'], value: 'sum(rate_limited) / sum(calls)', having: 'sum(calls) >= 50' }),
  window: RECENT,
  threshold: { type: 'gt', value: 0.2 },
  forSeconds: 300,
  severity: 'warning',
  labels: { team: 'mcp', signal: 'rate_limit' },
  summary: 'Tenant {{ $labels.tenant_id }}: {{ humanizePercentage $values.B.Value }} of calls were rate-limited',
  description: 'The tenant runs into its budgets; raise them or find the agent that loops.',
  unit: 'percentunit',
};

/**
 * p99 now (the last five minutes of the window) against p99 of the hour
 * before. Only calls that ran to an answer count: deadline-exhausted calls
 * measure the budget, not the latency, and rejections are instant.
 */
const LATENCY_OUTCOMES = inList(['ok', 'tool_error']);
const p99 = (cond: string) => `quantilesTDigestMergeIf(0.5, 0.95, 0.99)(duration_ms_quantiles, ${cond})[3]`;
const CURRENT = 'minute > $__toTime - INTERVAL 5 MINUTE';
const BASELINE = 'minute <= $__toTime - INTERVAL 5 MINUTE';

export const p99LatencyRegression: AlertRule = {
  uid: 'mcptrail-p99-latency-regression',
  title: 'MCP p99 latency regression',
  labelColumns: ['tool'],
  sql:
    `SELECT tool, ${p99(CURRENT)} / greatest(${p99(BASELINE)}, 1) AS value\n` +
    `FROM ${TABLES.toolCalls1m}\n` +
    `WHERE $__timeFilter(minute)\n  AND outcome IN (${LATENCY_OUTCOMES})\n` +
    `GROUP BY tool\nHAVING sumIf(calls, ${CURRENT}) >= 50 AND sumIf(calls, ${BASELINE}) >= 200`,
  signalSql:
    `SELECT $__timeInterval(minute) AS time, tool, quantilesTDigestMerge(0.5, 0.95, 0.99)(duration_ms_quantiles)[3] AS value\n` +
    `FROM ${TABLES.toolCalls1m}\nWHERE $__timeFilter(minute)\n  AND outcome IN (${LATENCY_OUTCOMES})\n` +
    `GROUP BY time, tool\nORDER BY time`,
  // 65 minutes: the baseline hour plus the current five minutes, ending a minute ago.
  window: { from: 3960, to: 60 },
  threshold: { type: 'gt', value: 2 },
  forSeconds: 300,
  severity: 'warning',
  labels: { team: 'mcp', signal: 'latency' },
  summary: '{{ $labels.tool }}: p99 latency is {{ $values.B.Value }}x the previous hour',
  description: 'Latency regression across tenants: a deploy or a slower upstream.',
  unit: 'ms',
};

export const shipperDrops: AlertRule = {
  uid: 'mcptrail-shipper-drops',
  title: 'MCP audit records dropped',
  ...grouped({
    table: ALERT_TABLES.pipelineEvents,
    timeFilter: '$__timeFilter_ms(ts)',
    timeColumn: 'ts',
    labels: ['service'],
    value: 'sum(count)',
    where: "event = 'shipper_drop'",
  }),
  window: RECENT,
  threshold: { type: 'gt', value: 0 },
  forSeconds: 0,
  severity: 'critical',
  labels: { team: 'mcp', signal: 'pipeline' },
  summary: '{{ $labels.service }} dropped {{ $values.B.Value }} audit records',
  description: 'The record shipper\'s spool overflowed or it shut down with records queued: the audit trail has gaps.',
  unit: 'short',
};

export const ALERT_RULES: readonly AlertRule[] = [
  deadlineExhaustion,
  authRefreshFailures,
  tenantErrorRate,
  rateLimitSaturation,
  p99LatencyRegression,
  shipperDrops,
];

/** Grafana's rule group: one evaluation interval for all rules. */
export const RULE_GROUP = { name: 'mcptrail', folder: 'mcptrail', intervalSeconds: 60 } as const;

export function conditionHolds(rule: Pick<AlertRule, 'threshold'>, value: number): boolean {
  if (!Number.isFinite(value)) return false;
  return rule.threshold.type === 'gt' ? value > rule.threshold.value : value < rule.threshold.value;
}
