/**
 * One view of a tools/call request over both SDK lines: v1 hands the handler
 * `RequestHandlerExtra` (requestId, _meta, requestInfo.headers, authInfo), v2
 * a `ServerContext` (mcpReq.{id,_meta,envelope,signal}, http.{req,authInfo}).
 */
import type { Principal } from '../auth/index.js';
import { hostPrincipal, type AuthInfoLike, type Identify } from './identity.js';

export interface ToolRequestInfo {
  requestId: string;
  sessionId: string;
  meta: Record<string, unknown> | undefined;
  /** HTTP request header (lower-case name), when the call came over HTTP. */
  header(name: string): string | undefined;
  overHttp: boolean;
  protocolVersion: string;
  principal: Principal | undefined;
  signal: AbortSignal | undefined;
}

const PROTOCOL_VERSION_META_KEY = 'io.modelcontextprotocol/protocolVersion';
const noHeader = () => undefined;

type Extra = Record<string, any>;

/** `identify` turns the request's authInfo into the caller (default: only mcptrail's own host's Principal). */
export function readRequestInfo(extra: unknown, identify: Identify = hostPrincipal): ToolRequestInfo {
  const x = (extra ?? {}) as Extra;
  return x.mcpReq ? fromV2(x, identify) : fromV1(x, identify);
}

function fromV1(x: Extra, identify: Identify): ToolRequestInfo {
  const headers = x.requestInfo?.headers as Record<string, string | string[] | undefined> | undefined;
  const header = headers ? (name: string) => firstValue(headers[name]) : noHeader;
  return {
    requestId: idString(x.requestId),
    sessionId: typeof x.sessionId === 'string' ? x.sessionId : '',
    meta: x._meta,
    header,
    overHttp: headers !== undefined,
    protocolVersion: header('mcp-protocol-version') ?? '',
    principal: identify(x.authInfo as AuthInfoLike | undefined),
    signal: x.signal,
  };
}

function fromV2(x: Extra, identify: Identify): ToolRequestInfo {
  const req = x.http?.req as Request | undefined;
  const header = req ? (name: string) => req.headers.get(name) ?? undefined : noHeader;
  const envelopeVersion = x.mcpReq.envelope?.[PROTOCOL_VERSION_META_KEY];
  return {
    requestId: idString(x.mcpReq.id),
    sessionId: typeof x.sessionId === 'string' ? x.sessionId : '',
    meta: x.mcpReq._meta,
    header,
    overHttp: x.http !== undefined,
    protocolVersion: typeof envelopeVersion === 'string' ? envelopeVersion : (header('mcp-protocol-version') ?? ''),
    principal: identify(x.http?.authInfo as AuthInfoLike | undefined),
    signal: x.mcpReq.signal,
  };
}

function firstValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function idString(id: unknown): string {
  return typeof id === 'string' || typeof id === 'number' ? String(id) : '';
}
