/** OTLP/HTTP request bodies (JSON or protobuf) to one in-memory shape, and the answers in the request's encoding. */
import type { Type } from 'protobufjs';
import { ExportMetricsServiceRequest, ExportMetricsServiceResponse, ExportTraceServiceRequest, ExportTraceServiceResponse, MAX_MESSAGE_DEPTH, RpcStatus } from './proto.js';
import { OtlpShapeError, checkOtlpJson } from './shape.js';
import type { OtlpMetricsRequest, OtlpTracesRequest } from './types.js';

export type OtlpEncoding = 'json' | 'protobuf';
export type OtlpSignal = 'traces' | 'metrics';

export class OtlpDecodeError extends Error {
  override readonly name = 'OtlpDecodeError';
}

/** Per signal: its request and response messages and the name of the partialSuccess counter. */
const SIGNALS: Record<OtlpSignal, { request: Type; response: Type; rejected: 'rejectedSpans' | 'rejectedDataPoints' }> = {
  traces: { request: ExportTraceServiceRequest, response: ExportTraceServiceResponse, rejected: 'rejectedSpans' },
  metrics: { request: ExportMetricsServiceRequest, response: ExportMetricsServiceResponse, rejected: 'rejectedDataPoints' },
};

/** The encoding a Content-Type names, or undefined when OTLP/HTTP does not define it. */
export function otlpEncodingOf(contentType: string | undefined): OtlpEncoding | undefined {
  const mime = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (mime === 'application/json') return 'json';
  if (mime === 'application/x-protobuf' || mime === 'application/protobuf') return 'protobuf';
  return undefined;
}

export function decodeTracesRequest(body: Buffer, encoding: OtlpEncoding): OtlpTracesRequest {
  return decodeRequest(body, encoding, 'traces') as OtlpTracesRequest;
}

export function decodeMetricsRequest(body: Buffer, encoding: OtlpEncoding): OtlpMetricsRequest {
  return decodeRequest(body, encoding, 'metrics') as OtlpMetricsRequest;
}

function decodeRequest(body: Buffer, encoding: OtlpEncoding, signal: OtlpSignal): unknown {
  if (body.length === 0) return {};
  const type = SIGNALS[signal].request;
  if (encoding === 'protobuf') {
    try {
      // Ids and bytes stay Uint8Array, 64-bit integers become exact decimal strings.
      return type.toObject(type.decode(body), { longs: String, arrays: false, defaults: false });
    } catch (err) {
      // protobufjs refuses messages nested deeper than its recursion limit, with this message.
      const tooDeep = (err as Error)?.message === 'max depth exceeded';
      throw new OtlpDecodeError(
        `request body is not a valid ${type.name} protobuf message${tooDeep ? `: messages nested deeper than ${MAX_MESSAGE_DEPTH}` : ''}`,
      );
    }
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw new OtlpDecodeError('request body is not valid JSON');
  }
  try {
    checkOtlpJson(parsed, type.name);
  } catch (err) {
    if (err instanceof OtlpShapeError) throw new OtlpDecodeError(err.message);
    throw err;
  }
  return parsed;
}

export interface PartialSuccess {
  /** Spans (traces) or data points (metrics) not stored; 0 with a message is a warning. */
  rejected: number;
  errorMessage: string;
}

/** The Export*ServiceResponse in the request's encoding: empty on full success. */
export function encodeExportResponse(signal: OtlpSignal, encoding: OtlpEncoding, partial?: PartialSuccess): Buffer {
  const { response, rejected } = SIGNALS[signal];
  const partialSuccess = partial && (partial.rejected > 0 || partial.errorMessage !== '') ? { [rejected]: String(partial.rejected), errorMessage: partial.errorMessage } : undefined;
  if (encoding === 'json') return Buffer.from(JSON.stringify(partialSuccess ? { partialSuccess } : {}));
  return Buffer.from(response.encode(response.fromObject(partialSuccess ? { partialSuccess } : {})).finish());
}

/** google.rpc codes used in OTLP/HTTP error bodies. */
export const RPC_CODE = { INVALID_ARGUMENT: 3, RESOURCE_EXHAUSTED: 8, UNAVAILABLE: 14, UNAUTHENTICATED: 16 } as const;

/** An OTLP/HTTP error body (google.rpc.Status) in the request's encoding. */
export function encodeRpcStatus(encoding: OtlpEncoding, code: number, message: string): Buffer {
  if (encoding === 'json') return Buffer.from(JSON.stringify({ code, message }));
  return Buffer.from(RpcStatus.encode(RpcStatus.fromObject({ code, message })).finish());
}
