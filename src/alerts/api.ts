/**
 * `GET /api/alerts`: the built-in evaluator's current state, for
 * `mcptrail alerts` and humans. Register inside the collector's /api scope
 * (so the read token applies): `await api.register(alertsApi(evaluator))`.
 */
import type { FastifyInstance } from 'fastify';
import type { AlertsSnapshot } from './evaluator.js';

export interface AlertsSource {
  snapshot(): AlertsSnapshot;
}

export function alertsApi(source: AlertsSource | undefined) {
  return async (app: FastifyInstance): Promise<void> => {
    app.get<{ Querystring: { rule?: string; state?: string } }>('/api/alerts', async (req) => {
      // No evaluator configured: an empty, well-formed answer rather than a 404, so the CLI can say so.
      const snapshot: AlertsSnapshot = source?.snapshot() ?? { evaluatedAt: null, rules: [], alerts: [] };
      const { rule, state } = req.query ?? {};
      const alerts = snapshot.alerts.filter((a) => (!rule || a.ruleUid === rule) && (!state || a.state === state));
      return { ...snapshot, alerts };
    });
  };
}
