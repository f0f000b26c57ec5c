import { SpanKind, SpanStatusCode, type Attributes, type Context, type Link, type Span, type Tracer } from '@opentelemetry/api';
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
  return tracer.startSpan(`tools/call ${facts.tool}`, { kind: SpanKind.SERVER, attributes, links: sanitizeLinks(links) }, sanitizeParent(parent));
}

/**
 * The SERVER span of a tools/call the SDK handed us, parented per SEP-414
 * (`_meta` first, then the HTTP header; the other linked). Returns the parent
 * context too: the handler runs under it.
 */
export function startCallSpan(
  tracer: Tracer,
  tool: string,
  info: ToolRequestInfo,
  callId: string,
  toolNameSha256?: string,
): { span: Span; parent: Context } {
  const { parent, links } = chooseParent(info);
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
    },
    parent,
    links,
  );
  return { span, parent };
}

/** Marks a failed call. The description is the error type, never a message. */
export function failSpan(span: Span, errorType: string): void {
  span.setAttribute('error.type', errorType);
  span.setStatus({ code: SpanStatusCode.ERROR, message: errorType });
}
