/**
 * What the audit MCP tools ask, as JSON routes under /api: one call explained
 * (`audit_explain_call`) and one tenant's health (`audit_tenant_health`).
 * Tenant-scoped like the rest of /api.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { explainCall, isCallId } from '../audit/explain.js';
import { tenantHealth } from '../audit/health.js';
import { parsedString, parseSince } from '../audit/index.js';
import type { AlertsSource } from '../alerts/api.js';
import type { Store } from '../store/index.js';
import { HttpError } from './errors.js';
import { parse, scopedTenant } from './evidence-api.js';

const HealthQuerySchema = z
  .object({
    window: parsedString(parseSince, 'window must be a duration like 15m, 1h or 7d (at most 31d)').optional(),
  })
  .strict();

export function insightApi(store: Store, alerts?: AlertsSource) {
  return async (app: FastifyInstance): Promise<void> => {
    app.get<{ Params: { callId: string } }>('/api/calls/:callId/explain', async (req) => {
      if (!isCallId(req.params.callId)) throw new HttpError(400, 'callId must be a UUID');
      parse(z.object({}).strict(), req.query);
      const explanation = await explainCall(store, req.params.callId, { tenant: scopedTenant(req, undefined) });
      // Another tenant's call is "not found" for a tenant token: its existence is not this reader's to learn.
      if (!explanation) throw new HttpError(404, 'no such call');
      return explanation;
    });

    app.get<{ Params: { tenant: string } }>('/api/tenants/:tenant/health', async (req) => {
      const q = parse(HealthQuerySchema, req.query);
      const tenant = scopedTenant(req, req.params.tenant)!;
      return tenantHealth(store, tenant, { window: q.window, alerts });
    });
  };
}
