/** Incidents: every alert rule's signal against its threshold, with the evaluator's fired/resolved transitions as annotations. */
import { AnnotationQueryBuilder, DashboardBuilder, ThresholdsConfigBuilder, ThresholdsMode } from '@grafana/grafana-foundation-sdk/dashboard';
import { GraphThresholdsStyleConfigBuilder } from '@grafana/grafana-foundation-sdk/common';
import { GraphThresholdsStyleMode } from '@grafana/grafana-foundation-sdk/common';
import { ALERT_RULES, type AlertRule } from '../alerts/rules.js';
import { ALERT_TABLES } from '../alerts/tables.js';
import { ds, sqlQuery, Format } from './query.js';
import { baseDashboard, table, timeseries } from './panels.js';

export const INCIDENTS_UID = 'mcptrail-incidents';

/** Fired alerts are points; resolved ones span from when they fired to when they resolved. */
export const ALERT_ANNOTATIONS_SQL = `SELECT if(state = 'resolved', starts_at, ts) AS time, ts AS timeEnd,
       concat(upper(state), ': ', alertname, ' — ', summary) AS text,
       arrayFilter(x -> x != '', [rule_uid, state, severity, tenant_id]) AS tags
FROM ${ALERT_TABLES.alertEvents}
WHERE $__timeFilter_ms(ts)
ORDER BY ts`;

function signalPanel(rule: AlertRule) {
  return timeseries({ title: rule.title, description: rule.description, unit: rule.unit, sql: rule.signalSql })
    .thresholds(
      new ThresholdsConfigBuilder().mode(ThresholdsMode.Absolute).steps([
        { value: null, color: 'green' },
        { value: rule.threshold.value, color: 'red' },
      ]),
    )
    .thresholdsStyle(new GraphThresholdsStyleConfigBuilder().mode(GraphThresholdsStyleMode.Dashed));
}

export function incidentsDashboard(): DashboardBuilder {
  let dashboard = baseDashboard({ title: 'mcptrail / Incidents', uid: INCIDENTS_UID, tags: ['alerts'], from: 'now-3h', refresh: '1m' })
    .annotation(
      new AnnotationQueryBuilder()
        .name('Alerts (built-in evaluator)')
        .datasource(ds())
        .enable(true)
        .iconColor('red')
        .target(sqlQuery(ALERT_ANNOTATIONS_SQL, Format.Table)),
    );
  for (const rule of ALERT_RULES) dashboard = dashboard.withPanel(signalPanel(rule));
  return dashboard.withPanel(
    table({
      title: 'Alert transitions',
      width: 24,
      sql: `SELECT ts, state, alertname, severity, tenant_id, labels, value, summary
FROM ${ALERT_TABLES.alertEvents}
WHERE $__timeFilter_ms(ts)
ORDER BY ts DESC
LIMIT 200`,
    }),
  );
}
