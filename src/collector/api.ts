/** The audit API under /api: thin HTTP over src/audit, with validated parameters. */
import type { FastifyInstance } from 'fastify';
import { CallFilterSchema, describeIssues, getTrace, listCalls } from '../audit/index.js';
import type { Store } from '../store/index.js';
import { HttpError } from './errors.js';

const LOOSE_TRACE_ID = /^[0-9a-fA-F]{32}$/;

export function auditApi(store: Store) {
  return async (app: FastifyInstance): Promise<void> => {
    app.get('/api/calls', async (req) => {
      const parsed = CallFilterSchema.safeParse(req.query ?? {});
      if (!parsed.success) throw new HttpError(400, describeIssues(parsed.error));
      return { calls: await listCalls(store, parsed.data) };
    });

    app.get<{ Params: { traceId: string } }>('/api/traces/:traceId', async (req) => {
      const { traceId } = req.params;
      if (!LOOSE_TRACE_ID.test(traceId)) throw new HttpError(400, 'traceId must be 32 hex characters');
      return getTrace(store, traceId.toLowerCase());
    });
  };
}
