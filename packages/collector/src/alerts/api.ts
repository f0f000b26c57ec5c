/**
 * What the collector's `GET /api/alerts` serves: the built-in evaluator's
 * state, narrowed by rule, state and (for tenant-scoped readers) tenant.
 */
import type { AlertsSnapshot } from './evaluator.js';

export interface AlertsSource {
  snapshot(): AlertsSnapshot;
}

export interface AlertsSelection {
  rule?: string;
  state?: string;
  /** A tenant-scoped reader sees only alerts labelled with its tenant. */
  tenant?: string;
}

const NO_EVALUATOR: AlertsSnapshot = { evaluatedAt: null, rules: [], alerts: [] };

export function selectAlerts(source: AlertsSource | undefined, sel: AlertsSelection): AlertsSnapshot {
  // No evaluator configured: an empty, well-formed answer rather than a 404, so the CLI can say so.
  const snapshot = source?.snapshot() ?? NO_EVALUATOR;
  const alerts = snapshot.alerts.filter(
    (a) =>
      (!sel.rule || a.ruleUid === sel.rule) &&
      (!sel.state || a.state === sel.state) &&
      (sel.tenant === undefined || a.labels.tenant_id === sel.tenant),
  );
  return { ...snapshot, alerts };
}
