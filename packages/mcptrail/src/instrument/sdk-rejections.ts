/**
 * The tools/call guard: one record for a call the SDK refused before our
 * wrapped handler ran (unknown or disabled tool, arguments failing the input
 * schema, a malformed request). Both SDK lines keep request handlers in a
 * private Map by method (sdk-internals.ts) and McpServer installs
 * `tools/call` there lazily, on the first tool registration; we wrap that entry
 * now if it exists and whenever `setRequestHandler` installs it again.
 *
 * The SDK's answer to the agent is left exactly as it is. Its error message is
 * never read: it can quote argument values.
 */
import { randomUUID } from 'node:crypto';
import type { Tracer } from '@opentelemetry/api';
import { newCallContext } from './call-context.js';
import { errorFields, summarizeArgs, type Logger, type Outcome, type RecordSink } from '../record/index.js';
import { DEFAULT_BUDGET_MS } from '../runtime/index.js';
import type { Identify } from './identity.js';
import { countAuditFailure, type ServerMetrics } from './metrics.js';
import { HANDLER_RAN, isWrapped, requestKey } from './pipeline.js';
import type { ToolPolicy } from './policy.js';
import { buildRecord } from './record-builder.js';
import { readRequestInfo, type DeclaredClient } from './request-info.js';
import { isErrorResult } from './safe-result.js';
import { recordedToolName } from './sanitize.js';
import type { HandlerWrapper } from './handler-hooks.js';
import { declaresIntentArgument, INTENT_SPAN_ATTRIBUTE, statedIntent, takeIntent, withoutIntentArgument } from './intent.js';
import type { RequestHandler } from './sdk-internals.js';
import { CALLER_FAULT_CODES, failRpc, startCallSpan } from './tool-span.js';

export interface GuardDeps {
  service: string;
  sink: RecordSink;
  tracer: Tracer;
  policyOf(tool: string): ToolPolicy;
  identify?: Identify;
  /** What the client declared in `initialize`, when this server saw it. */
  declaredClient?: () => DeclaredClient | undefined;
  metrics?: ServerMetrics;
  logger?: Logger;
}

interface ToolEntry {
  enabled?: boolean;
  handler?: unknown;
  execution?: { taskSupport?: unknown };
}

const TOOLS_CALL = 'tools/call';
const INVALID_PARAMS = -32602;
const INTERNAL_ERROR = -32603;

const CODE_CLASSES: Record<number, string> = {
  [-32700]: 'ParseError',
  [-32600]: 'InvalidRequest',
  [-32601]: 'MethodNotFound',
  [-32602]: 'InvalidParams',
  [-32603]: 'InternalError',
  [-32002]: 'ResourceNotFound',
};

/** The wrapper of the server's tools/call request handler (installed by handler-hooks.ts). */
export function toolsCallGuard(registry: Record<string, unknown>, deps: GuardDeps): HandlerWrapper {
  return { method: TOOLS_CALL, wrap: (inner) => guard(inner, registry, deps) };
}

function guard(inner: RequestHandler, registry: Record<string, unknown>, deps: GuardDeps): RequestHandler {
  // A .then() chain rather than an async function: one promise less per call (each costs a hook round trip under OTel).
  const guarded = (request: unknown, extra: unknown): Promise<unknown> => {
    const t0 = performance.now();
    const startedAt = Date.now();
    const key = keyOf(extra);
    const failed = (err: unknown): never => {
      if (!takeRan(key)) recordRejection(request, extra, registry, deps, { thrown: err }, startedAt, t0, key);
      throw err;
    };
    let pending: unknown;
    try {
      // The stated intent leaves the arguments before the SDK validates them (intent.ts).
      pending = inner(withoutIntent(request, key, registry, deps), extra);
    } catch (err) {
      return Promise.reject(err).catch(failed);
    }
    return Promise.resolve(pending).then((result) => {
      // The mark is taken on every call, so HANDLER_RAN holds only calls in flight (a small table is a cheap one).
      if (!takeRan(key) && isErrorResult(result)) recordRejection(request, extra, registry, deps, { thrown: undefined }, startedAt, t0, key);
      return result;
    }, failed);
  };
  return guarded;
}

/** The request with a registered tool's `intent` argument taken out (and stored for the record) per the tool's policy. */
function withoutIntent(request: unknown, key: object | undefined, registry: Record<string, unknown>, deps: GuardDeps): unknown {
  const name = (request as { params?: { name?: unknown } } | null)?.params?.name;
  if (typeof name !== 'string' || !Object.prototype.hasOwnProperty.call(registry, name)) return request;
  return takeIntent(request, key, deps.policyOf(name), declaresIntentArgument(registry[name]));
}

function keyOf(extra: unknown): object | undefined {
  const info = extra as { signal?: AbortSignal; mcpReq?: { signal?: AbortSignal } } | null;
  return requestKey(info?.mcpReq?.signal ?? info?.signal, extra);
}

/** Whether the wrapped handler ran for this request; clears the mark. */
function takeRan(key: object | undefined): boolean {
  return key !== undefined && HANDLER_RAN.delete(key);
}

interface Rejection {
  /** What the SDK threw (a JSON-RPC error), or undefined when it answered an isError result. */
  thrown: unknown;
}

function recordRejection(
  request: unknown,
  extra: unknown,
  registry: Record<string, unknown>,
  deps: GuardDeps,
  rejection: Rejection,
  startedAt: number,
  t0: number,
  key: object | undefined,
): void {
  try {
    const intent = statedIntent(key);
    const params = (request as { params?: { name?: unknown; arguments?: unknown } } | null)?.params;
    const sentName = typeof params?.name === 'string' ? params.name : '';
    const known = sentName !== '' && Object.prototype.hasOwnProperty.call(registry, sentName);
    const entry = known ? (registry[sentName] as ToolEntry) : undefined;
    // Tools we do not wrap (task handlers) are left alone, as in the pipeline.
    if (entry && entry.enabled !== false && !isWrapped(entry.handler)) return;

    const { code, cls } = classify(rejection, entry);
    const callerFault = CALLER_FAULT_CODES.has(code);
    const outcome: Outcome = callerFault ? 'tool_error' : 'system_error';
    const codeText = String(code);

    const policy: ToolPolicy = entry ? deps.policyOf(sentName) : {};
    // A name nobody registered is caller text: recorded as `unknown`, its hash on the span.
    const { tool, nameSha256 } = recordedToolName(sentName, known);
    const info = readRequestInfo(extra, deps.identify, deps.declaredClient);
    const principal = info.principal;
    const callId = randomUUID();
    const { span } = startCallSpan(deps.tracer, tool, info, callId, nameSha256);
    // -32602 and the other caller faults are not server errors: the status stays unset.
    if (intent) span.setAttribute(INTENT_SPAN_ATTRIBUTE, intent);
    failRpc(span, code);
    span.end();
    const ctx = newCallContext({
      principal,
      span,
      sessionId: info.sessionId,
      requestId: info.requestId,
      callId,
      tool,
      startedAt,
      budgetMs: entry ? (policy.budgetMs ?? DEFAULT_BUDGET_MS) : 0,
      signal: info.signal,
    });
    const durationMs = performance.now() - t0;
    deps.metrics?.recordCall(durationMs, known ? tool : '', info.protocolVersion, codeText, ctx.tenantId);
    deps.sink.emit(
      buildRecord(ctx, {
        service: deps.service,
        toolVersion: policy.version ?? '',
        toolDeprecated: policy.deprecated ?? false,
        scopeRequired: policy.scope ?? '',
        outcome,
        errorClass: cls,
        errorCode: codeText,
        durationMs,
        // Summarised as the SDK saw them: without the intent argument, which is recorded on its own.
        argsSummary: summarizeArgs(withoutIntentArgument(params?.arguments, entry, policy), policy.redact),
        rateLimitBudget: '',
        idempotencyKey: '',
        idempotentReplay: false,
        protocolVersion: info.protocolVersion,
        clientName: info.clientName,
        clientVersion: info.clientVersion,
        mcpMethod: info.method,
        intent,
      }),
    );
  } catch (err) {
    // Auditing must never break the call it audits: the SDK's answer goes out as is, the failure is counted.
    countAuditFailure();
    deps.logger?.error(errorFields(err), 'audit_record_failed');
  }
}

/**
 * The code and class of a refusal. A thrown JSON-RPC error carries its code;
 * an isError result (v1 folds its McpErrors into one) does not, so the code is
 * the one the SDK's refusal path for that situation uses.
 */
function classify(rejection: Rejection, entry: ToolEntry | undefined): { code: number; cls: string } {
  const thrownCode = (rejection.thrown as { code?: unknown } | null | undefined)?.code;
  let code: number;
  if (rejection.thrown !== undefined) code = typeof thrownCode === 'number' && Number.isInteger(thrownCode) ? thrownCode : INTERNAL_ERROR;
  else if (entry && entry.enabled !== false && isTaskMisconfigured(entry)) code = INTERNAL_ERROR;
  else code = INVALID_PARAMS;

  if (code === INVALID_PARAMS && !entry) return { code, cls: 'UnknownTool' };
  if (code === INVALID_PARAMS && entry?.enabled === false) return { code, cls: 'DisabledTool' };
  return { code, cls: CODE_CLASSES[code] ?? 'McpError' };
}

/** v1 refuses a plain handler declared with taskSupport 'required' / 'optional' (InternalError). */
function isTaskMisconfigured(entry: ToolEntry): boolean {
  const support = entry.execution?.taskSupport;
  return support === 'required' || support === 'optional';
}
