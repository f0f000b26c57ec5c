/**
 * Grafana file provisioning for alerting, generated from the rule
 * definitions (reference §3: data A = the SQL as a table, B = reduce last,
 * C = threshold on B).
 */
import { ALERT_RULES, RULE_GROUP, type AlertRule } from './rules.js';
import { ruleLabels } from './labels.js';

export const CLICKHOUSE_DATASOURCE = { type: 'grafana-clickhouse-datasource', uid: 'clickhouse' } as const;

/** Grafana durations ("2m", "0s") from seconds. */
export function grafanaDuration(seconds: number): string {
  if (seconds === 0) return '0s';
  if (seconds % 3600 === 0) return `${seconds / 3600}h`;
  if (seconds % 60 === 0) return `${seconds / 60}m`;
  return `${seconds}s`;
}

export function provisionedRule(rule: AlertRule) {
  return {
    uid: rule.uid,
    title: rule.title,
    condition: 'C',
    data: [
      {
        refId: 'A',
        relativeTimeRange: { from: rule.window.from, to: rule.window.to },
        datasourceUid: CLICKHOUSE_DATASOURCE.uid,
        model: {
          refId: 'A',
          datasource: { ...CLICKHOUSE_DATASOURCE },
          editorType: 'sql',
          format: 1,
          queryType: 'table',
          rawSql: rule.sql,
        },
      },
      {
        refId: 'B',
        datasourceUid: '__expr__',
        model: { refId: 'B', type: 'reduce', expression: 'A', reducer: 'last', settings: { mode: 'dropNN' } },
      },
      {
        refId: 'C',
        datasourceUid: '__expr__',
        model: {
          refId: 'C',
          type: 'threshold',
          expression: 'B',
          conditions: [{ evaluator: { type: rule.threshold.type, params: [rule.threshold.value] } }],
        },
      },
    ],
    noDataState: 'OK',
    execErrState: 'Error',
    for: grafanaDuration(rule.forSeconds),
    labels: { ...ruleLabels(rule) },
    annotations: { summary: rule.summary, description: rule.description },
    isPaused: false,
  };
}

export function alertRulesProvisioning(rules: readonly AlertRule[] = ALERT_RULES) {
  return {
    apiVersion: 1,
    groups: [
      {
        orgId: 1,
        name: RULE_GROUP.name,
        folder: RULE_GROUP.folder,
        interval: grafanaDuration(RULE_GROUP.intervalSeconds),
        rules: rules.map(provisionedRule),
      },
    ],
  };
}

/**
 * A webhook (e.g. a chat bridge) and the team's Alertmanager. URLs come from
 * the environment Grafana runs in ($__env{...} is expanded by Grafana's provisioning).
 */
export function contactPointsProvisioning() {
  return {
    apiVersion: 1,
    contactPoints: [
      {
        orgId: 1,
        name: 'mcptrail-webhook',
        receivers: [
          {
            uid: 'mcptrail-webhook',
            type: 'webhook',
            settings: { url: '$__env{MCPTRAIL_ALERT_WEBHOOK_URL}', httpMethod: 'POST', maxAlerts: 0 },
            disableResolveMessage: false,
          },
        ],
      },
      {
        orgId: 1,
        name: 'mcptrail-alertmanager',
        receivers: [
          {
            uid: 'mcptrail-alertmanager',
            type: 'prometheus-alertmanager',
            settings: { url: '$__env{MCPTRAIL_ALERTMANAGER_URL}' },
            disableResolveMessage: false,
          },
        ],
      },
    ],
  };
}

/** Critical alerts page through Alertmanager and the webhook; warnings go to the webhook only. One page per rule × tenant. */
export function policiesProvisioning() {
  return {
    apiVersion: 1,
    policies: [
      {
        orgId: 1,
        receiver: 'mcptrail-webhook',
        group_by: ['alertname', 'tenant_id'],
        group_wait: '30s',
        group_interval: '5m',
        repeat_interval: '4h',
        routes: [
          {
            receiver: 'mcptrail-alertmanager',
            object_matchers: [
              ['team', '=', 'mcp'],
              ['severity', '=', 'critical'],
            ],
            continue: true,
          },
          {
            receiver: 'mcptrail-webhook',
            object_matchers: [['team', '=', 'mcp']],
          },
        ],
      },
    ],
  };
}
