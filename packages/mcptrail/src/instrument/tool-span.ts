import { SpanKind, SpanStatusCode, type Attributes, type Context, type Link, type Span, type Tracer } from '@opentelemetry/api';
import {
  ATTR_CLIENT_ADDRESS,
  ATTR_CLIENT_PORT,
  ATTR_ERROR_TYPE,
  ATTR_NETWORK_PROTOCOL_NAME,
  ATTR_NETWORK_PROTOCOL_VERSION,
  ATTR_RPC_RESPONSE_STATUS_CODE,
  TOOL_ERROR_TYPE,
} from '../telemetry/semconv.js';
import type { ToolRequestInfo } from './request-info.js';
import { recordedProtocolVersion, recordedRequestId, sanitizeLinks, sanitizeParent } from './sanitize.js';
import { chooseParent } from './trace-parent.js';

export interface ToolSpanFacts {
  /** The recorded name: registered, or `unknown` (see sanitize.ts). */
  tool: string;
  /** sha256 of the name an unregistered tool was called by. */
  toolNameSha256?: string;
  requestId: string;
  sessionId: string;
  protocolVersion: string;
  overHttp: boolean;
  tenantId: string;
  agentId: string;
  callId: string;
  /** The peer and the HTTP version, when the host knew them. */
  clientAddress?: string;
  clientPort?: number;
  httpVersion?: string;
}

/**
 * The semconv MCP SERVER span for one tools/call. Arguments and results never
 * go on it; the caller's request id and tracestate only sanitised.
 */
export function startToolSpan(tracer: Tracer, facts: ToolSpanFacts, parent: Context, links: Link[] | undefined): Span {
  const attributes: Attributes = {
    'mcp.method.name': 'tools/call',
    'gen_ai.tool.name': facts.tool,
    'gen_ai.operation.name': 'execute_tool',
    'network.transport': facts.overHttp ? 'tcp' : 'pipe',
    'mcptrail.tenant_id': facts.tenantId,
    'mcptrail.agent_id': facts.agentId,
    'mcptrail.call_id': facts.callId,
  };
  if (facts.toolNameSha256) attributes['mcptrail.tool.name_sha256'] = facts.toolNameSha256;
  if (facts.requestId) attributes['jsonrpc.request.id'] = recordedRequestId(facts.requestId);
  if (facts.sessionId) attributes['mcp.session.id'] = facts.sessionId;
  const protocolVersion = recordedProtocolVersion(facts.protocolVersion);
  if (protocolVersion) attributes['mcp.protocol.version'] = protocolVersion;
  if (facts.overHttp) {
    attributes[ATTR_NETWORK_PROTOCOL_NAME] = 'http';
    if (facts.httpVersion) attributes[ATTR_NETWORK_PROTOCOL_VERSION] = facts.httpVersion;
  }
  if (facts.clientAddress) attributes[ATTR_CLIENT_ADDRESS] = facts.clientAddress;
  if (facts.clientPort) attributes[ATTR_CLIENT_PORT] = facts.clientPort;
  return tracer.startSpan(`tools/call ${facts.tool}`, { kind: SpanKind.SERVER, attributes, links: sanitizeLinks(links) }, sanitizeParent(parent));
}

/**
 * The SERVER span of a tools/call the SDK handed us, parented per SEP-414
 * (`_meta` first, then the HTTP header; the other linked). Returns the parent
 * context too: the handler runs under it. `parentOverride` replaces the
 * choice (a later round of a multi-round-trip call joins its first round's trace).
 */
export function startCallSpan(
  tracer: Tracer,
  tool: string,
  info: ToolRequestInfo,
  callId: string,
  toolNameSha256?: string,
  parentOverride?: { parent: Context; links: Link[] | undefined },
): { span: Span; parent: Context } {
  const { parent, links } = parentOverride ?? chooseParent(info);
  const span = startToolSpan(
    tracer,
    {
      tool,
      toolNameSha256,
      requestId: info.requestId,
      sessionId: info.sessionId,
      protocolVersion: info.protocolVersion,
      overHttp: info.overHttp,
      tenantId: info.principal?.tenantId ?? '',
      agentId: info.principal?.agentId ?? '',
      callId,
      clientAddress: info.host?.clientAddress,
      clientPort: info.host?.clientPort,
      httpVersion: info.host?.httpVersion,
    },
    parent,
    links,
  );
  return { span, parent };
}

/** Marks a failed call. The description is the error type, never a message. */
export function failSpan(span: Span, errorType: string): void {
  span.setAttribute(ATTR_ERROR_TYPE, errorType);
  span.setStatus({ code: SpanStatusCode.ERROR, message: errorType });
}

/**
 * A call answered with an `isError` tool result (a refusal, a failure turned
 * into a safe answer, or the tool's own business error): `error.type` is the
 * conventions' `tool_error`, the internal class and code go in mcptrail's
 * own attributes (a dashboard can still tell a rate limit from a timeout).
 */
export function failToolResult(span: Span, errorClass: string, errorCode: string, outcome: string): void {
  failSpan(span, TOOL_ERROR_TYPE);
  span.setAttribute('mcptrail.outcome', outcome);
  if (errorClass) span.setAttribute('mcptrail.error.class', errorClass);
  if (errorCode) span.setAttribute('mcptrail.error.code', errorCode);
}

/**
 * A call answered with a JSON-RPC error: `error.type` and
 * `rpc.response.status_code` are its code as a string. Caller faults
 * (semconv MCP: parse, invalid request, method not found, invalid params,
 * resource not found) leave the status unset on the server side.
 */
export function failRpc(span: Span, code: number, errorClass?: string): void {
  const text = String(code);
  span.setAttribute(ATTR_ERROR_TYPE, text);
  span.setAttribute(ATTR_RPC_RESPONSE_STATUS_CODE, text);
  if (errorClass) span.setAttribute('mcptrail.error.class', errorClass);
  if (!CALLER_FAULT_CODES.has(code)) span.setStatus({ code: SpanStatusCode.ERROR, message: text });
}

/** JSON-RPC codes that are the caller's fault on the server side (semconv MCP, genai PR #404). */
export const CALLER_FAULT_CODES: ReadonlySet<number> = new Set([-32700, -32600, -32601, -32602, -32002]);
