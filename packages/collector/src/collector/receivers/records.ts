/** POST /v1/records: NDJSON CallRecords from the durable shipper. 200 means stored (or already stored). */
import type { FastifyInstance } from 'fastify';
import { TABLES } from '../../store/index.js';
import { readBody, type BodyLimits } from '../body.js';
import { validateRecordsAsync } from '../processors/records.js';
import type { BatchWriter } from '../writer.js';

export function recordsReceiver(writer: BatchWriter, limits: BodyLimits) {
  return async (app: FastifyInstance): Promise<void> => {
    app.post('/v1/records', async (req, reply) => {
      const body = await readBody(req, limits);
      const keyed = await validateRecordsAsync(body);
      await writer.write(TABLES.toolCalls, { keyed });
      return reply.code(200).send({ accepted: keyed.lines.length });
    });
  };
}
