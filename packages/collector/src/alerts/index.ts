/** Alerting: rules defined once, Grafana provisioning, the built-in evaluator and its notifiers. */
export {
  ALERT_RULES,
  RULE_GROUP,
  SERVER_ERROR_OUTCOMES,
  conditionHolds,
  deadlineExhaustion,
  authRefreshFailures,
  tenantErrorRate,
  rateLimitSaturation,
  p99LatencyRegression,
  shipperDrops,
  type AlertRule,
  type Severity,
} from './rules.js';
export {
  expandMacros,
  applyConditionalAll,
  replaceVariables,
  applyTemplateVariables,
  renderQuery,
  parseGoDuration,
  MacroError,
  ALL,
  type MacroContext,
  type TemplateVariable,
} from './macros.js';
export { AlertEvaluator, type AlertStore, type EvaluatorOptions, type AlertsSnapshot, type AlertView, type RuleHealth } from './evaluator.js';
export { alertmanagerNotifier, webhookNotifier, webhookMessages, NotifierError, type Notifier, type OutgoingAlert, type WebhookMessage } from './notifiers.js';
export { selectAlerts, type AlertsSource, type AlertsSelection } from './api.js';
export { ALERT_TABLES } from './tables.js';
export { alertRulesProvisioning, contactPointsProvisioning, policiesProvisioning, CLICKHOUSE_DATASOURCE } from './provisioning.js';
export { ruleLabels, seriesLabels, fingerprint, type Labels } from './labels.js';
