/**
 * POST /v1/events: pipeline health events (e.g. `shipper_drop`) reported by
 * record shippers, into `pipeline_events` where the shipper-drops alert reads
 * them. Rare and small, so each request is its own insert; its content-derived
 * dedup token makes a re-sent report a no-op.
 */
import type { FastifyInstance } from 'fastify';
import { TABLES, type Store } from '../../store/index.js';
import { readBody, type BodyLimits } from '../body.js';
import { validateEvents } from '../processors/events.js';
import { contentToken } from '../writer.js';

export function eventsReceiver(store: Store, limits: BodyLimits) {
  return async (app: FastifyInstance): Promise<void> => {
    app.post('/v1/events', async (req, reply) => {
      return reply.code(200).send({ accepted: await storeEvents(store, await readBody(req, limits)) });
    });
  };
}

/** Validates an NDJSON body of events and stores it (also what the collector's own shippers report through). */
export async function storeEvents(store: Store, body: Buffer): Promise<number> {
  const { ndjson, count } = validateEvents(body);
  if (count > 0) await store.insertNDJSON(TABLES.pipelineEvents, ndjson, { dedupToken: contentToken(ndjson) });
  return count;
}
