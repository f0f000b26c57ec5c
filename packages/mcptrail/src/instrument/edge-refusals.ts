/**
 * Audit records of the requests the HTTP edge refuses (unauthenticated, out
 * of scope, over an edge budget) and the little body reading the edge needs to
 * find them: the tools/call messages of a JSON-RPC request or batch.
 *
 * A refused request leaves one record and one span, however many calls it
 * carried (`calls_in_request` counts them): refusals are what an attacker can
 * produce at will, so their cost to the trail must not grow with the body.
 * They go to the sink's refusal class (`emitRefusal`), which has its own
 * spool budget: they can never push out the records of calls that ran.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { Tracer } from '@opentelemetry/api';
import type { Principal } from '../auth/index.js';
import type { CallRecord, Outcome, RecordSink } from '../record/index.js';
import { DEFAULT_BUDGET_MS } from '../runtime/index.js';
import { newCallContext } from './call-context.js';
import type { EdgeRefusal } from './edge-checks.js';
import { resolvePolicy, type ToolPolicy } from './policy.js';
import { INTENT_SPAN_ATTRIBUTE, intentOfMessage } from './intent.js';
import { buildRecord } from './record-builder.js';
import { recordedToolName } from './sanitize.js';
import { CLIENT_INFO_META_KEY, PROTOCOL_VERSION_META_KEY } from './request-info.js';
import { failRpc, startToolSpan } from './tool-span.js';
import { chooseParent } from './trace-parent.js';

export interface RefusalRecorderDeps {
  service: string;
  sink: RecordSink;
  tracer: Tracer;
  tools?: Record<string, ToolPolicy>;
  defaults?: ToolPolicy;
  /** Whether a tool of this name is registered (other names are recorded as `unknown`). */
  isRegistered(name: string): boolean;
}

export type RefusalFacts = Pick<EdgeRefusal, 'errorClass' | 'errorCode' | 'rateLimitBudget'> & {
  outcome: Outcome;
  /** The JSON-RPC error code the request is answered with. */
  rpcCode: number;
};

/** Who the client said it was, when the request does not say it itself (legacy: its last initialize). */
export interface RefusalClient {
  name: string;
  version: string;
}

/** To the sink's refusal class when it has one. Auditing never changes the answer. */
export function emitRefusal(sink: RecordSink, record: CallRecord): void {
  try {
    if (sink.emitRefusal) sink.emitRefusal(record);
    else sink.emit(record);
  } catch {
    // A failing sink is visible through its own counters.
  }
}

/** Records (span + CallRecord) one refused request: `refused` is the call it is about, `calls` all it carried. */
export function refusalRecorder(deps: RefusalRecorderDeps) {
  return function recordRefusal(
    headers: IncomingHttpHeaders,
    calls: readonly ToolsCallMessage[],
    refused: ToolsCallMessage,
    refusal: RefusalFacts,
    principal?: Principal,
    declared?: RefusalClient,
    /** For a request refused from its headers (body unread): the method its `Mcp-Method` header named, and the calls it announced. */
    unread?: { mcpMethod: string; callsInRequest: number },
  ) {
    const sentName = toolName(refused);
    const { tool, nameSha256 } = recordedToolName(sentName, sentName !== '' && deps.isRegistered(sentName));
    const policy = resolvePolicy(tool, deps.tools, deps.defaults);
    const callId = randomUUID();
    const requestId = typeof refused.id === 'string' || typeof refused.id === 'number' ? String(refused.id) : '';
    const header = (name: string) => {
      const v = headers[name];
      return Array.isArray(v) ? v[0] : v;
    };
    const meta = isObject(refused.params?._meta) ? refused.params._meta : undefined;
    const { parent, links } = chooseParent({ meta, header });
    // 2026-07-28: the request names its revision and client in _meta; legacy: the header and the last initialize.
    const envelopeVersion = meta?.[PROTOCOL_VERSION_META_KEY];
    const protocolVersion = typeof envelopeVersion === 'string' ? envelopeVersion : (header('mcp-protocol-version') ?? '');
    const info = meta?.[CLIENT_INFO_META_KEY];
    const client = typeof envelopeVersion === 'string' ? (isObject(info) ? { name: text(info.name), version: text(info.version) } : undefined) : declared;
    const span = startToolSpan(
      deps.tracer,
      {
        tool,
        toolNameSha256: nameSha256,
        requestId,
        sessionId: '',
        protocolVersion,
        overHttp: true,
        tenantId: principal?.tenantId ?? '',
        agentId: principal?.agentId ?? '',
        callId,
      },
      parent,
      links,
    );
    // Why, for an authenticated caller of a registered tool whose body was read (masked, as in the pipeline).
    const intent = principal && !unread && tool === sentName ? intentOfMessage(refused.params, policy) : '';
    if (intent) span.setAttribute(INTENT_SPAN_ATTRIBUTE, intent);
    if (calls.length > 1) span.setAttribute('mcptrail.calls_in_request', calls.length);
    failRpc(span, refusal.rpcCode, refusal.errorClass);
    span.setAttribute('mcptrail.outcome', refusal.outcome);
    span.setAttribute('mcptrail.error.code', refusal.errorCode);
    span.end();
    // The same record builder (and bounds) as the pipeline's; policy facts only for an authenticated caller.
    const record = buildRecord(
      newCallContext({
        principal,
        span,
        sessionId: '',
        requestId,
        callId,
        tool,
        startedAt: Date.now(),
        budgetMs: principal ? (policy.budgetMs ?? DEFAULT_BUDGET_MS) : 0,
      }),
      {
        service: deps.service,
        toolVersion: principal ? (policy.version ?? '') : '',
        toolDeprecated: principal ? (policy.deprecated ?? false) : false,
        scopeRequired: principal ? (policy.scope ?? '') : '',
        outcome: refusal.outcome,
        errorClass: refusal.errorClass,
        errorCode: refusal.errorCode,
        rateLimitBudget: refusal.rateLimitBudget,
        durationMs: 0,
        // The edge never reads the arguments.
        argsSummary: '{}',
        idempotencyKey: '',
        idempotentReplay: false,
        callsInRequest: unread ? unread.callsInRequest : calls.length,
        mcpMethod: unread?.mcpMethod,
        protocolVersion,
        clientName: client?.name,
        clientVersion: client?.version,
        intent,
      },
    );
    emitRefusal(deps.sink, record);
  };
}

export interface ToolsCallMessage {
  id?: unknown;
  method: 'tools/call';
  params?: { name?: unknown; _meta?: unknown; arguments?: unknown };
}

function text(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

function isObject(v: unknown): v is Record<string, any> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isToolsCall(v: unknown): v is ToolsCallMessage {
  return isObject(v) && v.method === 'tools/call';
}

export function toolsCalls(body: unknown): ToolsCallMessage[] {
  return (Array.isArray(body) ? body : [body]).filter(isToolsCall);
}

export function toolName(message: ToolsCallMessage): string {
  return typeof message.params?.name === 'string' ? message.params.name.slice(0, 128) : '';
}

export function singleId(body: unknown): string | number | null {
  return !Array.isArray(body) && isObject(body) && (typeof body.id === 'string' || typeof body.id === 'number') ? body.id : null;
}

