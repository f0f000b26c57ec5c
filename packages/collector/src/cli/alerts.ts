/** `mcptrail alerts [--json]`: what the built-in evaluator sees now (firing, pending, recently resolved). */
import type { AlertsSnapshot } from '../alerts/evaluator.js';
import { table, shortTime } from './format.js';
import { collectorGet } from './collector-client.js';
import type { CliConfig } from './config.js';

/** Where the state comes from: the collector's `GET /api/alerts`, or an evaluator in this process. */
export type AlertsStateSource = { snapshot(): AlertsSnapshot | Promise<AlertsSnapshot> };

/** Reads `GET /api/alerts` from the collector (which owns the evaluator). */
export function collectorAlertsSource(config: Pick<CliConfig, 'collectorUrl' | 'readToken'>): AlertsStateSource {
  return { snapshot: () => collectorGet<AlertsSnapshot>(config, '/api/alerts', 15_000) };
}

const SERIES_LABELS_HIDDEN = new Set(['alertname', 'grafana_folder', 'rule_uid', 'severity', 'team', 'signal']);

export async function alertsCommand(source: AlertsStateSource, json: boolean): Promise<string> {
  const snapshot = await source.snapshot();
  if (json) return JSON.stringify(snapshot, null, 2);
  return alertsText(snapshot);
}

/** The alerts as a table, and the rules' health (also the text form of the audit_list_alerts MCP tool). */
export function alertsText(snapshot: AlertsSnapshot): string {
  if (snapshot.evaluatedAt === null) return 'the alert evaluator has not run yet (is it enabled in the collector?)';
  const lines: string[] = [];
  if (snapshot.alerts.length === 0) lines.push('no alerts firing or pending');
  else {
    lines.push(
      table(snapshot.alerts, [
        { header: 'STATE', value: (a) => a.state.toUpperCase() },
        { header: 'ALERT', value: (a) => a.title },
        { header: 'SEVERITY', value: (a) => a.labels.severity ?? '-' },
        {
          header: 'SERIES',
          value: (a) =>
            Object.entries(a.labels)
              .filter(([k]) => !SERIES_LABELS_HIDDEN.has(k))
              .map(([k, v]) => `${k}=${v}`)
              .join(' ') || '-',
        },
        { header: 'VALUE', value: (a) => (typeof a.value === 'number' && Number.isFinite(a.value) ? String(Number(a.value.toPrecision(4))) : '-'), align: 'right' },
        { header: 'SINCE (UTC)', value: (a) => shortTime(a.resolvedAt ?? a.firedAt ?? a.activeAt) },
      ]),
    );
  }
  const broken = snapshot.rules.filter((r) => r.health === 'error');
  for (const r of broken) lines.push(`rule ${r.uid} failed to evaluate (${r.lastError ?? 'error'})`);
  lines.push(`evaluated ${shortTime(snapshot.evaluatedAt)} UTC; ${snapshot.rules.length} rule(s)`);
  return lines.join('\n');
}
