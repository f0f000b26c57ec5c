/** Label sets of alert series: the same for Grafana-provisioned rules and the built-in evaluator. */
import { sha256Hex } from 'mcptrail/crypto';
import { RULE_GROUP, type AlertRule } from './rules.js';

export type Labels = Readonly<Record<string, string>>;

/** The labels a rule puts on all its series (provisioned into Grafana as the rule's labels). */
export function ruleLabels(rule: AlertRule): Labels {
  return { ...rule.labels, severity: rule.severity, rule_uid: rule.uid };
}

/**
 * A series' full label set, as Grafana sends it to Alertmanager: alertname
 * (the rule title), grafana_folder, the rule's labels, then the query's label
 * columns. Stable across evaluations, so re-sent alerts are the same alert.
 */
export function seriesLabels(rule: AlertRule, queryLabels: Labels): Labels {
  return { alertname: rule.title, grafana_folder: RULE_GROUP.folder, ...ruleLabels(rule), ...queryLabels };
}

/** A stable identity for a label set (order-independent). */
export function fingerprint(labels: Labels): string {
  const canonical = Object.keys(labels)
    .sort()
    .map((k) => `${k}\u0000${labels[k]}`)
    .join('\u0001');
  return sha256Hex(canonical).slice(0, 16);
}
