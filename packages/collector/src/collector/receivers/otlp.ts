/**
 * POST /v1/traces: OTLP/HTTP, JSON or protobuf, optionally gzip. Answers in
 * the request's encoding: an ExportTraceServiceResponse (with partialSuccess
 * when some spans were unusable) or a google.rpc.Status on error.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { TABLES } from '../../store/index.js';
import { readBody, type BodyLimits } from '../body.js';
import { HttpError } from '../errors.js';
import { OtlpDecodeError, RPC_CODE, decodeTracesRequest, encodeRpcStatus, encodeTracesResponse, otlpEncodingOf, type OtlpEncoding } from '../otlp/decode.js';
import { spansToRows } from '../otlp/rows.js';
import type { BatchWriter } from '../writer.js';

const CONTENT_TYPE: Record<OtlpEncoding, string> = { json: 'application/json', protobuf: 'application/x-protobuf' };

export function otlpReceiver(writer: BatchWriter, limits: BodyLimits) {
  return async (app: FastifyInstance): Promise<void> => {
    app.post('/v1/traces', async (req, reply) => {
      const encoding = otlpEncodingOf(req.headers['content-type']);
      if (!encoding) {
        return reply.code(415).send({ error: 'Content-Type must be application/json or application/x-protobuf' });
      }
      try {
        const request = decodeTracesRequest(await readBody(req, limits), encoding);
        const batch = spansToRows(request);
        await writer.write(TABLES.otelTraces, { ndjson: batch.ndjson, rows: batch.accepted });
        const partial = batch.rejected > 0 ? { rejectedSpans: batch.rejected, errorMessage: batch.firstError ?? '' } : undefined;
        return reply.code(200).type(CONTENT_TYPE[encoding]).send(encodeTracesResponse(encoding, partial));
      } catch (err) {
        if (err instanceof OtlpDecodeError) return sendStatus(reply, encoding, 400, RPC_CODE.INVALID_ARGUMENT, err.message);
        if (err instanceof HttpError) {
          const rpc = err.statusCode === 503 ? RPC_CODE.UNAVAILABLE : err.statusCode === 413 || err.statusCode === 429 ? RPC_CODE.RESOURCE_EXHAUSTED : RPC_CODE.INVALID_ARGUMENT;
          return sendStatus(reply.headers(err.headers), encoding, err.statusCode, rpc, err.message);
        }
        throw err;
      }
    });
  };
}

function sendStatus(reply: FastifyReply, encoding: OtlpEncoding, status: number, code: number, message: string): FastifyReply {
  return reply.code(status).type(CONTENT_TYPE[encoding]).send(encodeRpcStatus(encoding, code, message));
}
