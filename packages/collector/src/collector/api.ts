/**
 * The audit API under /api: thin HTTP over src/audit, with validated
 * parameters and the caller's read scope applied. A tenant-scoped token reads
 * its own tenant only: asking for another tenant is a 403 (an explicit
 * refusal, so a misconfigured client notices), leaving the tenant out means
 * "mine".
 */
import type { FastifyInstance } from 'fastify';
import { CallFilterSchema, describeIssues, getTrace, isTraceId, listCalls } from '../audit/index.js';
import { selectAlerts, type AlertsSource } from '../alerts/api.js';
import type { Store } from '../store/index.js';
import { HttpError } from './errors.js';
import { scopeOf, tenantOf } from './read-scope.js';

export function auditApi(store: Store, alerts?: AlertsSource) {
  return async (app: FastifyInstance): Promise<void> => {
    app.get('/api/calls', async (req) => {
      const parsed = CallFilterSchema.safeParse(req.query ?? {});
      if (!parsed.success) throw new HttpError(400, describeIssues(parsed.error));
      const filter = parsed.data;
      const tenant = tenantOf(scopeOf(req));
      if (tenant !== undefined) {
        if (filter.tenant !== undefined && filter.tenant !== tenant) throw new HttpError(403, 'this read token is scoped to another tenant');
        filter.tenant = tenant;
      }
      return { calls: await listCalls(store, filter) };
    });

    app.get<{ Params: { traceId: string } }>('/api/traces/:traceId', async (req) => {
      const traceId = req.params.traceId.toLowerCase();
      if (!isTraceId(traceId)) throw new HttpError(400, 'traceId must be 32 hex characters');
      return getTrace(store, traceId, { tenant: tenantOf(scopeOf(req)) });
    });

    app.get('/api/alerts', async (req) => {
      const query = (req.query ?? {}) as Record<string, unknown>;
      return selectAlerts(alerts, {
        rule: typeof query.rule === 'string' ? query.rule : undefined,
        state: typeof query.state === 'string' ? query.state : undefined,
        tenant: tenantOf(scopeOf(req)),
      });
    });
  };
}
