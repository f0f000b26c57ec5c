/**
 * POST /v1/traces and POST /v1/metrics: OTLP/HTTP, JSON or protobuf,
 * optionally gzip, with the same body limits, ingest token and backpressure.
 * Answers in the request's encoding: an Export*ServiceResponse (with
 * partialSuccess when some spans or points were unusable) or a
 * google.rpc.Status on error. 200 means the accepted rows are stored.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { TABLES } from '../../store/index.js';
import { readBody, type BodyLimits } from '../body.js';
import { HttpError } from '../errors.js';
import {
  OtlpDecodeError,
  RPC_CODE,
  decodeMetricsRequest,
  decodeTracesRequest,
  encodeExportResponse,
  encodeRpcStatus,
  otlpEncodingOf,
  type OtlpEncoding,
  type OtlpSignal,
  type PartialSuccess,
} from '../otlp/decode.js';
import { metricsToRows } from '../otlp/metric-rows.js';
import { spansToRows } from '../otlp/rows.js';
import type { BatchWriter, WriteInput } from '../writer.js';

const CONTENT_TYPE: Record<OtlpEncoding, string> = { json: 'application/json', protobuf: 'application/x-protobuf' };

/** What one request becomes: rows per table, and how many items were rejected (and why). */
interface Mapped {
  writes: [string, WriteInput][];
  rejected: number;
  firstError?: string;
}

const MAPPERS: Record<OtlpSignal, (body: Buffer, encoding: OtlpEncoding) => Mapped> = {
  traces: (body, encoding) => {
    const batch = spansToRows(decodeTracesRequest(body, encoding));
    return { writes: [[TABLES.otelTraces, { ndjson: batch.ndjson, rows: batch.accepted }]], rejected: batch.rejected, firstError: batch.firstError };
  },
  metrics: (body, encoding) => {
    const batch = metricsToRows(decodeMetricsRequest(body, encoding));
    const writes = [...batch.tables].map(([table, rows]): [string, WriteInput] => [table, rows]);
    return { writes, rejected: batch.rejected, firstError: batch.firstError };
  },
};

export function otlpReceiver(writer: BatchWriter, limits: BodyLimits) {
  return async (app: FastifyInstance): Promise<void> => {
    for (const signal of ['traces', 'metrics'] as const) {
      app.post(`/v1/${signal}`, (req, reply) => handle(signal, req, reply));
    }
  };

  async function handle(signal: OtlpSignal, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const encoding = otlpEncodingOf(req.headers['content-type']);
    if (!encoding) {
      return reply.code(415).send({ error: 'Content-Type must be application/json or application/x-protobuf' });
    }
    try {
      const mapped = MAPPERS[signal](await readBody(req, limits), encoding);
      await writer.writeAll(mapped.writes);
      const partial: PartialSuccess | undefined = mapped.firstError !== undefined ? { rejected: mapped.rejected, errorMessage: mapped.firstError } : undefined;
      return reply.code(200).type(CONTENT_TYPE[encoding]).send(encodeExportResponse(signal, encoding, partial));
    } catch (err) {
      if (err instanceof OtlpDecodeError) return sendStatus(reply, encoding, 400, RPC_CODE.INVALID_ARGUMENT, err.message);
      if (err instanceof HttpError) {
        const rpc = err.statusCode === 503 ? RPC_CODE.UNAVAILABLE : err.statusCode === 413 || err.statusCode === 429 ? RPC_CODE.RESOURCE_EXHAUSTED : RPC_CODE.INVALID_ARGUMENT;
        return sendStatus(reply.headers(err.headers), encoding, err.statusCode, rpc, err.message);
      }
      throw err;
    }
  }
}

function sendStatus(reply: FastifyReply, encoding: OtlpEncoding, status: number, code: number, message: string): FastifyReply {
  return reply.code(status).type(CONTENT_TYPE[encoding]).send(encodeRpcStatus(encoding, code, message));
}
