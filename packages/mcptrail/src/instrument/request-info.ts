/**
 * One view of a tools/call request over both SDK lines and both protocol
 * eras: v1 hands the handler `RequestHandlerExtra` (requestId, _meta,
 * requestInfo.headers, authInfo), v2 a `ServerContext` (mcpReq.{id, method,
 * _meta, envelope, inputResponses, requestState, signal}, http.{req,
 * authInfo}). On 2026-07-28 the request itself says who the client is (the
 * `_meta` envelope the v2 SDK lifts into `mcpReq.envelope`); on the legacy
 * revisions the client said it once, in `initialize`, which a stateless
 * server never sees: mcptrail's host remembers it (host-facts.ts).
 */
import type { Principal } from '../auth/index.js';
import { hostFactsOf, type HostFacts } from './host-facts.js';
import { hostPrincipal, type AuthInfoLike, type Identify } from './identity.js';

export interface ToolRequestInfo {
  requestId: string;
  sessionId: string;
  meta: Record<string, unknown> | undefined;
  /** HTTP request header (lower-case name), when the call came over HTTP. */
  header(name: string): string | undefined;
  overHttp: boolean;
  protocolVersion: string;
  /** `modern` when the request carried the 2026-07-28 envelope, else `legacy`. */
  era: 'modern' | 'legacy';
  /** The JSON-RPC method (`tools/call` for a tool handler). */
  method: string;
  clientName: string;
  clientVersion: string;
  /** The capabilities the request declared (2026-07-28: per request), if any. */
  clientCapabilities: Record<string, unknown> | undefined;
  /** A retried round's answers (2026-07-28 multi-round-trip), as the SDK lifted them. */
  inputResponses: Record<string, unknown> | undefined;
  /** The round's `requestState` as the SDK hands it to the handler (the wire string unless a verify hook decoded it). */
  requestState: unknown;
  /** What mcptrail's host knew of the connection (peer address, HTTP version), when it served the request. */
  host: HostFacts | undefined;
  principal: Principal | undefined;
  signal: AbortSignal | undefined;
}

export const PROTOCOL_VERSION_META_KEY = 'io.modelcontextprotocol/protocolVersion';
export const CLIENT_INFO_META_KEY = 'io.modelcontextprotocol/clientInfo';
export const CLIENT_CAPABILITIES_META_KEY = 'io.modelcontextprotocol/clientCapabilities';
const noHeader = () => undefined;

type Extra = Record<string, any>;

/**
 * `identify` turns the request's authInfo into the caller (default: only
 * mcptrail's own host's Principal); `declaredClient` is the name and version
 * the server saw in `initialize` (stdio and sessionful legacy servers).
 */
export function readRequestInfo(extra: unknown, identify: Identify = hostPrincipal, declaredClient?: () => DeclaredClient | undefined): ToolRequestInfo {
  const x = (extra ?? {}) as Extra;
  return x.mcpReq ? fromV2(x, identify, declaredClient) : fromV1(x, identify, declaredClient);
}

export interface DeclaredClient {
  name?: unknown;
  version?: unknown;
}

function fromV1(x: Extra, identify: Identify, declaredClient: (() => DeclaredClient | undefined) | undefined): ToolRequestInfo {
  const headers = x.requestInfo?.headers as Record<string, string | string[] | undefined> | undefined;
  const header = headers ? (name: string) => firstValue(headers[name]) : noHeader;
  const authInfo = x.authInfo as AuthInfoLike | undefined;
  const host = hostFactsOf(authInfo);
  const client = host?.client ?? declaredClient?.();
  return {
    requestId: idString(x.requestId),
    sessionId: typeof x.sessionId === 'string' ? x.sessionId : '',
    meta: x._meta,
    header,
    overHttp: headers !== undefined,
    protocolVersion: header('mcp-protocol-version') ?? '',
    era: 'legacy',
    method: 'tools/call',
    clientName: text(client?.name),
    clientVersion: text(client?.version),
    clientCapabilities: undefined,
    inputResponses: undefined,
    requestState: undefined,
    host,
    principal: identify(authInfo),
    signal: x.signal,
  };
}

function fromV2(x: Extra, identify: Identify, declaredClient: (() => DeclaredClient | undefined) | undefined): ToolRequestInfo {
  const req = x.http?.req as Request | undefined;
  const header = req ? (name: string) => req.headers.get(name) ?? undefined : noHeader;
  const envelope = x.mcpReq.envelope as Record<string, unknown> | undefined;
  const envelopeVersion = envelope?.[PROTOCOL_VERSION_META_KEY];
  const modern = typeof envelopeVersion === 'string';
  const authInfo = x.http?.authInfo as AuthInfoLike | undefined;
  const host = hostFactsOf(authInfo);
  // 2026-07-28: the request's own clientInfo; legacy: what the host or the server saw in initialize.
  const client = modern ? (envelope?.[CLIENT_INFO_META_KEY] as DeclaredClient | undefined) : (host?.client ?? declaredClient?.());
  const capabilities = envelope?.[CLIENT_CAPABILITIES_META_KEY];
  let requestState: unknown;
  try {
    requestState = typeof x.mcpReq.requestState === 'function' ? x.mcpReq.requestState() : undefined;
  } catch (err) {
    // An accessor that throws is an SDK change, not the caller's doing: the round is read as carrying no state.
    if (!(err instanceof Error)) throw err;
  }
  return {
    requestId: idString(x.mcpReq.id),
    sessionId: typeof x.sessionId === 'string' ? x.sessionId : '',
    meta: x.mcpReq._meta,
    header,
    overHttp: x.http !== undefined,
    protocolVersion: modern ? envelopeVersion : (header('mcp-protocol-version') ?? ''),
    era: modern ? 'modern' : 'legacy',
    method: typeof x.mcpReq.method === 'string' ? x.mcpReq.method : 'tools/call',
    clientName: text(client?.name),
    clientVersion: text(client?.version),
    clientCapabilities: isObject(capabilities) ? capabilities : undefined,
    inputResponses: isObject(x.mcpReq.inputResponses) ? x.mcpReq.inputResponses : undefined,
    requestState,
    host,
    principal: identify(authInfo),
    signal: x.mcpReq.signal,
  };
}

function firstValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function idString(id: unknown): string {
  return typeof id === 'string' || typeof id === 'number' ? String(id) : '';
}

function text(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
