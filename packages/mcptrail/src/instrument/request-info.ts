/**
 * One view of a tools/call request over both SDK lines: v1 hands the handler
 * `RequestHandlerExtra` (requestId, _meta, requestInfo.headers, authInfo), v2
 * a `ServerContext` (mcpReq.{id,_meta,envelope,signal}, http.{req,authInfo}).
 */
import type { Principal } from '../auth/index.js';

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

interface AuthInfoLike {
  extra?: Record<string, unknown>;
}

type Extra = Record<string, any>;

export function readRequestInfo(extra: unknown): ToolRequestInfo {
  const x = (extra ?? {}) as Extra;
  return x.mcpReq ? fromV2(x) : fromV1(x);
}

function fromV1(x: Extra): ToolRequestInfo {
  const headers = x.requestInfo?.headers as Record<string, string | string[] | undefined> | undefined;
  const header = headers ? (name: string) => firstValue(headers[name]) : noHeader;
  return {
    requestId: idString(x.requestId),
    sessionId: typeof x.sessionId === 'string' ? x.sessionId : '',
    meta: x._meta,
    header,
    overHttp: headers !== undefined,
    protocolVersion: header('mcp-protocol-version') ?? '',
    principal: principalOf(x.authInfo),
    signal: x.signal,
  };
}

function fromV2(x: Extra): ToolRequestInfo {
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
    principal: principalOf(x.http?.authInfo),
    signal: x.mcpReq.signal,
  };
}

/** The Principal the HTTP layer verified and attached; nothing else counts. */
export function principalOf(authInfo: AuthInfoLike | undefined): Principal | undefined {
  const p = authInfo?.extra?.principal as Partial<Principal> | undefined;
  if (!p || typeof p.tenantId !== 'string' || typeof p.agentId !== 'string' || !Array.isArray(p.scopes)) return undefined;
  if (p.method !== 'jwt' && p.method !== 'api_key') return undefined;
  return p as Principal;
}

function firstValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function idString(id: unknown): string {
  return typeof id === 'string' || typeof id === 'number' ? String(id) : '';
}
