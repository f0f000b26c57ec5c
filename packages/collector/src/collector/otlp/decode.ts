/** OTLP/HTTP request bodies (JSON or protobuf) to one in-memory shape. */
import { ExportTraceServiceRequest, ExportTraceServiceResponse, RpcStatus } from './proto.js';
import type { OtlpTracesRequest } from './types.js';

export type OtlpEncoding = 'json' | 'protobuf';

export class OtlpDecodeError extends Error {
  override readonly name = 'OtlpDecodeError';
}

/** The encoding a Content-Type names, or undefined when OTLP/HTTP does not define it. */
export function otlpEncodingOf(contentType: string | undefined): OtlpEncoding | undefined {
  const mime = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (mime === 'application/json') return 'json';
  if (mime === 'application/x-protobuf' || mime === 'application/protobuf') return 'protobuf';
  return undefined;
}

export function decodeTracesRequest(body: Buffer, encoding: OtlpEncoding): OtlpTracesRequest {
  if (body.length === 0) return {};
  if (encoding === 'protobuf') {
    try {
      const message = ExportTraceServiceRequest.decode(body);
      // Ids and bytes stay Uint8Array, 64-bit integers become exact decimal strings.
      return ExportTraceServiceRequest.toObject(message, { longs: String, arrays: false, defaults: false }) as OtlpTracesRequest;
    } catch {
      throw new OtlpDecodeError('request body is not a valid ExportTraceServiceRequest protobuf message');
    }
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw new OtlpDecodeError('request body is not valid JSON');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new OtlpDecodeError('request body must be a JSON ExportTraceServiceRequest object');
  }
  // Proto3 JSON also allows the original field names; convert only when they are used.
  return ('resource_spans' in parsed ? camelCaseKeys(parsed) : parsed) as OtlpTracesRequest;
}

export interface PartialSuccess {
  rejectedSpans: number;
  errorMessage: string;
}

/** ExportTraceServiceResponse in the request's encoding: empty on full success. */
export function encodeTracesResponse(encoding: OtlpEncoding, partial?: PartialSuccess): Buffer {
  const body = partial && partial.rejectedSpans > 0 ? { partialSuccess: partial } : {};
  if (encoding === 'json') {
    return Buffer.from(
      JSON.stringify(partial && partial.rejectedSpans > 0 ? { partialSuccess: { rejectedSpans: String(partial.rejectedSpans), errorMessage: partial.errorMessage } } : {}),
    );
  }
  return Buffer.from(ExportTraceServiceResponse.encode(ExportTraceServiceResponse.fromObject(body)).finish());
}

/**
 * Proto3 JSON parsers accept the original snake_case field names as well as
 * lowerCamelCase. Attribute *keys* are values (`{"key": "http.method"}`), not
 * field names, so only object keys are renamed.
 */
function camelCaseKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(camelCaseKeys);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k.includes('_') ? k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()) : k] = camelCaseKeys(v);
  }
  return out;
}

/** google.rpc codes used in OTLP/HTTP error bodies. */
export const RPC_CODE = { INVALID_ARGUMENT: 3, RESOURCE_EXHAUSTED: 8, UNAVAILABLE: 14, UNAUTHENTICATED: 16 } as const;

/** An OTLP/HTTP error body (google.rpc.Status) in the request's encoding. */
export function encodeRpcStatus(encoding: OtlpEncoding, code: number, message: string): Buffer {
  if (encoding === 'json') return Buffer.from(JSON.stringify({ code, message }));
  return Buffer.from(RpcStatus.encode(RpcStatus.fromObject({ code, message })).finish());
}
