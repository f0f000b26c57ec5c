/**
 * The per-call pipeline wrapped around one tool handler:
 * context ▸ span ▸ scope ▸ limits (rate, concurrency) ▸ idempotency ▸
 * handler (inside the deadline) ▸ output safety ▸ record.
 * Every path out of it emits exactly one record.
 */
import { randomUUID } from 'node:crypto';
import { context, trace, type Span, type Tracer } from '@opentelemetry/api';
import { missingScope } from '../auth/index.js';
import { runWithCall, type CallContext } from '../context/index.js';
import { CallAbort } from './call-abort.js';
import { newCallContext } from './call-context.js';
import { errorClass, errorCode, errorFields, summarizeArgs, type Logger, type Outcome, type RecordSink } from '../record/index.js';
import {
  Deadline,
  DEFAULT_BUDGET_MS,
  permanentDenyResult,
  rateLimitedResult,
  type ConcurrencyCap,
  type IdempotencyStore,
  type RateLimits,
} from '../runtime/index.js';
import { warnDeprecatedOnce } from './deprecation.js';
import { failureAnswer, withinBudget } from './failure.js';
import type { Identify } from './identity.js';
import { callerIdempotencyKey, recordedIdempotencyKey } from './idempotency-key.js';
import { effectMayHaveHappened, intentCallId, intentOf, INTERRUPTED_CLASS, recordInterruptedCalls } from './interrupted.js';
import { countDegradedDecision } from './limits-signal.js';
import { countAuditFailure, type ServerMetrics } from './metrics.js';
import { outputGuard } from './output-safety.js';
import type { ToolPolicy } from './policy.js';
import { buildRecord, type RecordFacts } from './record-builder.js';
import { readRequestInfo, type DeclaredClient } from './request-info.js';
import { setCallScope } from './call-scope.js';
import {
  isInputRequiredResult,
  roundBinding,
  roundParent,
  summarizeInputRequests,
  summarizeInputResponses,
  unanswerable,
  type OpenedRound,
  type RoundCodec,
} from './rounds.js';
import { INTENT_REQUIRED_CLASS, INTENT_REQUIRED_CODE, INTENT_SPAN_ATTRIBUTE, intentPolicyOf, statedIntent } from './intent.js';
import { deniedResult, intentRequiredResult, inputUnavailableResult, interruptedResult, invalidRequestStateResult, isErrorResult } from './safe-result.js';
import { failRpc, failToolResult, startCallSpan } from './tool-span.js';
import { chooseParent } from './trace-parent.js';
import { TOOL_ERROR_TYPE } from '../telemetry/semconv.js';

export interface PipelineDeps {
  service: string;
  sink: RecordSink;
  tracer: Tracer;
  /** Budgets checked per call (typically per tool and per tenant). */
  limits?: RateLimits;
  /** In-flight calls per tenant. */
  concurrency?: ConcurrencyCap;
  /** Deduplicates write tools (and tools with `idempotent: true`). */
  idempotency?: IdempotencyStore;
  /** Operational lines (deprecations, a failing sink). Never receives arguments or results. */
  logger?: Logger;
  /** The caller from the request's authInfo (default: mcptrail's own host's Principal only). */
  identify?: Identify;
  /** `mcp.server.operation.duration` and friends. */
  metrics?: ServerMetrics;
  /** What the client declared in `initialize` (name, version; capabilities), when this server saw it. */
  declaredClient?: () => DeclaredClient | undefined;
  declaredCapabilities?: () => Record<string, unknown> | undefined;
  /** Seals and opens the logical call inside a multi-round-trip `requestState`. */
  rounds?: RoundCodec;
}

type Handler = (this: unknown, ...args: unknown[]) => unknown;

/** Marks our wrappers (double-wrap guard) and points back at the author's handler. */
export const ORIGINAL_HANDLER = Symbol.for('mcptrail.originalHandler');

export type WrappedHandler = Handler & { [ORIGINAL_HANDLER]: Handler };

export function isWrapped(fn: unknown): fn is WrappedHandler {
  return typeof fn === 'function' && ORIGINAL_HANDLER in fn;
}

/**
 * Requests whose wrapped handler ran (keyed by the request's AbortSignal, which
 * both SDK lines create per request and carry through every copy of the
 * handler context). The tools/call guard (sdk-rejections.ts) records only
 * calls that are not in here: those the SDK refused before the handler, and
 * removes each request's mark when it answers.
 */
export const HANDLER_RAN = new WeakSet<object>();

/** The key HANDLER_RAN uses for one request. */
export function requestKey(signal: AbortSignal | undefined, extra: unknown): object | undefined {
  return signal ?? (typeof extra === 'object' && extra !== null ? extra : undefined);
}

/** JSON-RPC errors the SDK must see thrown (URL elicitation), not turned into results. */
const PASS_THROUGH_CODES = new Set([-32042]);

export function wrapToolHandler(tool: string, handler: Handler, policy: ToolPolicy, deps: PipelineDeps): WrappedHandler {
  if (isWrapped(handler)) return handler;
  // Per-tool constants, computed once rather than per call.
  const budgetMs = policy.budgetMs ?? DEFAULT_BUDGET_MS;
  const scopeRequired = policy.scope ?? '';
  const toolVersion = policy.version ?? '';
  const toolDeprecated = policy.deprecated ?? false;
  const redact = policy.redact;
  const idempotent = deps.idempotency !== undefined && (policy.idempotent ?? policy.kind === 'write');
  const output = outputGuard(policy.output);
  const intentRequired = intentPolicyOf(policy) === 'required';
  const { service, sink, tracer, limits, concurrency, idempotency, logger, identify, metrics, rounds } = deps;
  // Calls a previous process left unfinished are recorded (once per store).
  if (idempotent) recordInterruptedCalls(idempotency!, sink);

  const wrapped = async function (this: unknown, ...a: unknown[]): Promise<unknown> {
    // v1 calls handler(args, extra) or handler(extra); v2 the same via its executor.
    const extra = a[a.length - 1];
    const args = a.length > 1 ? a[0] : undefined;
    const info = readRequestInfo(extra, identify, deps.declaredClient);
    const ran = requestKey(info.signal, extra);
    if (ran) HANDLER_RAN.add(ran);
    const principal = info.principal;
    const callId = randomUUID();
    const startedAt = Date.now();
    const t0 = performance.now();

    // A later round of a multi-round-trip call: its state says which logical call it continues (rounds.ts).
    const binding = rounds && info.requestState !== undefined ? roundBinding(principal?.tenantId ?? '', principal?.agentId ?? '', tool) : '';
    const opened: OpenedRound | undefined | false =
      binding && typeof info.requestState === 'string' ? ((await rounds!.open(info.requestState, binding)) ?? false) : undefined;
    const { span, parent } = startCallSpan(tracer, tool, info, callId, undefined, opened ? roundParent(opened, chooseParent(info)) : undefined);
    // Fires at the deadline and when the agent cancels: the handler's signal and the upstream client's.
    const abort = new CallAbort(info.signal);
    // Stated by the caller and taken out of its arguments by the tools/call guard (intent.ts); masked already.
    const intent = statedIntent(ran);
    if (intent) span.setAttribute(INTENT_SPAN_ATTRIBUTE, intent);
    if (toolVersion) span.setAttribute('mcptrail.tool.version', toolVersion);
    if (toolDeprecated) {
      span.setAttribute('mcptrail.tool.deprecated', true);
      warnDeprecatedOnce(logger, service, tool, toolVersion);
    }
    const ctx = newCallContext({
      principal,
      span,
      sessionId: info.sessionId,
      requestId: info.requestId,
      callId,
      tool,
      startedAt,
      budgetMs,
      abort,
    });
    // One object the stages fill in and the record is built from (no per-call spread).
    const facts: RecordFacts = {
      service,
      toolVersion,
      toolDeprecated,
      scopeRequired,
      outcome: 'ok',
      errorClass: '',
      errorCode: '',
      durationMs: 0,
      argsSummary: '',
      rateLimitBudget: '',
      idempotencyKey: '',
      idempotentReplay: false,
      protocolVersion: info.protocolVersion,
      clientName: info.clientName,
      clientVersion: info.clientVersion,
      mcpMethod: info.method,
      logicalCallId: opened ? opened.logicalCallId : callId,
      round: opened ? opened.round + 1 : 1,
      inputResponsesSummary: summarizeInputResponses(info.inputResponses, redact),
      intent,
    };
    if (opened) {
      span.setAttribute('mcptrail.logical_call_id', opened.logicalCallId);
      span.setAttribute('mcptrail.round', opened.round + 1);
    }
    setCallScope(ctx, {
      service,
      sink,
      tracer,
      logger,
      policy,
      span,
      info,
      logicalCallId: facts.logicalCallId!,
      setTaskId: (taskId) => void (facts.taskId = taskId),
    });
    /** The span's (and the duration metric's) error.type; '' while the call succeeds. */
    let errorType = '';
    /** The call is answered with an isError tool result: `tool_error` on the span and the metric, the class in mcptrail's attributes. */
    const fail = () => {
      errorType = TOOL_ERROR_TYPE;
      failToolResult(span, facts.errorClass, facts.errorCode, facts.outcome);
    };
    const refuse = (outcome: Outcome, cls: string, code: string, answer: unknown) => {
      facts.outcome = outcome;
      facts.errorClass = cls;
      facts.errorCode = code;
      fail();
      return answer;
    };

    let result: unknown;
    let rethrow: unknown;
    let release: (() => void) | undefined;
    let settle: (() => Promise<unknown>) | undefined;
    try {
      // A labelled block rather than an inner async function: one promise less per call.
      stages: {
        if (opened === false) {
          result = refuse('denied', 'RequestStateError', 'invalid_request_state', invalidRequestStateResult(callId));
          break stages;
        }
        const missing = missingScope(scopeRequired, ctx.scopes);
        if (missing) {
          result = refuse('denied', 'ScopeError', 'insufficient_scope', deniedResult(callId, missing));
          break stages;
        }
        // After the scope check (a caller who may not call the tool is told that first), before any budget is spent.
        if (intentRequired && !intent) {
          result = refuse('tool_error', INTENT_REQUIRED_CLASS, INTENT_REQUIRED_CODE, intentRequiredResult(callId, tool));
          break stages;
        }

        if (limits) {
          const decision = await limits.take({ tenantId: ctx.tenantId, agentId: ctx.agentId, tool });
          if (limits.degraded) markDegraded(span, 'rate');
          if (!decision.allowed) {
            if (decision.permanent) {
              result = refuse('denied', 'PermanentDenial', decision.reason.slice(0, 64), permanentDenyResult(decision));
              break stages;
            }
            facts.rateLimitBudget = decision.budget;
            result = refuse('rate_limited', 'RateLimited', `rate_limited_${decision.budget}`, rateLimitedResult(decision));
            break stages;
          }
        }
        if (concurrency) {
          const slot = await concurrency.acquire(ctx.tenantId);
          if (concurrency.degraded) markDegraded(span, 'concurrency');
          if (!slot.allowed) {
            facts.rateLimitBudget = 'concurrency';
            result = refuse('rate_limited', 'RateLimited', 'rate_limited_concurrency', rateLimitedResult(slot));
            break stages;
          }
          release = slot.release;
        }

        const self = this;
        const run = () => {
          const work = context.with(trace.setSpan(parent, span), () => runWithCall(ctx, () => handler.apply(self, handlerArgs(a, abort, opened))));
          // The slot is the handler's until it settles, not until the agent is answered at the deadline.
          if (release) {
            holdUntilSettled(work, release);
            release = undefined;
          }
          return withinBudget(work, Deadline.of(ctx).remainingMs(), abort);
        };

        if (!idempotent) {
          // No store: a caller's key still reaches the upstream, which may dedupe the agent's retries itself.
          if (policy.kind === 'write') ctx.idempotencyKey = callerIdempotencyKey(info.meta, args) ?? '';
          const value = await run();
          result = isInputRequiredResult(value) ? await askClient(value) : finish(output.filter(value));
          break stages;
        }

        // The intent (this call's record, as `interrupted`) is stored with the claim, before the handler runs.
        const begun = await idempotency!.begin(
          { tenantId: ctx.tenantId, tool, args, callerKey: callerIdempotencyKey(info.meta, args) },
          {
            waitTimeoutMs: Deadline.of(ctx).timeoutFor(),
            signal: info.signal,
            intent: intentOf(ctx, facts, args, redact),
            rerunInterrupted: policy.upstreamDedupes === true,
          },
        );
        facts.idempotencyKey = recordedIdempotencyKey(begun.key);
        span.setAttribute('mcptrail.idempotency_key_sha256', facts.idempotencyKey);
        if (begun.state === 'replay') {
          facts.idempotentReplay = true;
          span.setAttribute('mcptrail.idempotent_replay', true);
          result = finish(begun.result);
          break stages;
        }
        if (begun.state === 'interrupted') {
          // Not run again: the earlier call may have had its effect, and this upstream would not dedupe a second one.
          facts.idempotentReplay = true;
          span.setAttribute('mcptrail.idempotent_replay', true);
          result = refuse('interrupted', INTERRUPTED_CLASS, 'idempotency_interrupted', interruptedResult(callId, intentCallId(begun.intent)));
          break stages;
        }
        ctx.idempotencyKey = begun.key;
        let filtered: unknown;
        try {
          const value = await run();
          if (isInputRequiredResult(value)) {
            // Nothing happened yet: the key is free for the round that brings the answers (the same logical call).
            settle = begun.fail;
            result = await askClient(value);
            break stages;
          }
          filtered = output.filter(value);
        } catch (err) {
          // A failure frees the key for the agent's retry, unless a write went out and may have taken effect upstream.
          settle = !policy.upstreamDedupes && effectMayHaveHappened(ctx, err) ? begun.abandon : begun.fail;
          throw err;
        }
        result = finish(filtered);
        // Settled once the record is out (below): a crash in between leaves the intent, recorded on recovery.
        settle = () => begun.complete(filtered);
      }
    } catch (err) {
      facts.errorClass = errorClass(err);
      facts.errorCode = errorCode(err);
      const code = (err as { code?: unknown })?.code;
      if (PASS_THROUGH_CODES.has(code as number)) {
        // Answered as the JSON-RPC error it is.
        facts.outcome = 'system_error';
        errorType = String(code);
        failRpc(span, code as number, facts.errorClass);
        rethrow = err;
      } else {
        const answer = failureAnswer(err, facts.errorCode, callId, budgetMs, Deadline.of(ctx).expired());
        facts.outcome = answer.outcome;
        result = answer.result;
        fail();
      }
    } finally {
      release?.();
      span.end();
      emitSafely(sink, ctx, facts, t0, args, redact, logger);
      metrics?.recordCall(facts.durationMs, tool, info.protocolVersion, errorType, ctx.tenantId);
    }
    if (settle) await settle().catch(() => undefined);
    if (rethrow) throw rethrow;
    return result;

    /** A handler's (or replayed) result: classified, then wrapped as untrusted data. */
    function finish(value: unknown): unknown {
      if (isErrorResult(value)) {
        facts.outcome = 'tool_error';
        fail();
      }
      return output.wrap(value);
    }

    /**
     * The handler needs the client's input: this round ends `input_required`,
     * with what it asked recorded, and its state sealed with the logical call
     * (rounds.ts). A client that cannot answer is told so plainly instead.
     */
    async function askClient(value: { inputRequests?: Record<string, unknown>; requestState?: unknown }): Promise<unknown> {
      const legacy = info.era === 'legacy';
      const capabilities = legacy ? deps.declaredCapabilities?.() : info.clientCapabilities;
      const missingKey = unanswerable(value.inputRequests, capabilities);
      if (missingKey !== undefined || !rounds) {
        return refuse('tool_error', 'InputUnavailable', 'client_cannot_answer', inputUnavailableResult(callId, tool, missingKey ?? 'input', legacy));
      }
      facts.outcome = 'input_required';
      facts.inputRequestsSummary = summarizeInputRequests(value.inputRequests);
      span.setAttribute('mcptrail.outcome', 'input_required');
      const sc = span.spanContext();
      const requestState = await rounds.seal(
        { logicalCallId: facts.logicalCallId!, round: facts.round!, traceId: sc.traceId, spanId: sc.spanId, traceFlags: sc.traceFlags, inner: value.requestState },
        roundBinding(ctx.tenantId, ctx.agentId, tool),
      );
      return { ...value, requestState };
    }
  } as WrappedHandler;

  wrapped[ORIGINAL_HANDLER] = handler;
  return wrapped;
}

function markDegraded(span: Span, scope: 'rate' | 'concurrency'): void {
  span.setAttribute('mcptrail.limits.degraded', true);
  countDegradedDecision(scope);
}

/** Auditing must never break the call it audits; a record that could not be emitted is counted and logged (class and code). */
function emitSafely(
  sink: RecordSink,
  ctx: CallContext,
  facts: RecordFacts,
  t0: number,
  args: unknown,
  redact: ToolPolicy['redact'],
  logger: Logger | undefined,
): void {
  facts.durationMs = performance.now() - t0;
  try {
    facts.argsSummary = summarizeArgs(args, redact);
    sink.emit(buildRecord(ctx, facts));
  } catch (err) {
    countAuditFailure();
    logger?.error(errorFields(err), 'audit_record_failed');
  }
}

/**
 * The handler's arguments with the call's signal in its `extra` (v1:
 * `extra.signal`, v2: `ctx.mcpReq.signal`), which fires at the deadline as
 * well as on cancellation, made when first read; on a later round of a
 * multi-round-trip call, `ctx.mcpReq.requestState()` answers the handler's
 * own state (unsealed). Both SDKs build `extra` as plain objects of closures
 * (v2 spreads them itself), so a shallow copy is safe.
 */
function handlerArgs(a: unknown[], abort: CallAbort, opened: OpenedRound | undefined | false): unknown[] {
  const last = a.length - 1;
  const extra = a[last] as Record<string, any> | undefined;
  if (!extra || typeof extra !== 'object') return a;
  const copy = a.slice();
  if (extra.mcpReq && typeof extra.mcpReq === 'object') {
    const mcpReq = { ...extra.mcpReq, get signal() { return abort.signal; } };
    if (opened) mcpReq.requestState = () => opened.inner;
    copy[last] = { ...extra, mcpReq };
  } else {
    copy[last] = { ...extra, get signal() { return abort.signal; } };
  }
  return copy;
}

/** Releases the concurrency slot when the handler's work settles (at once for a synchronous result). */
function holdUntilSettled(work: unknown, release: () => void): void {
  if (typeof (work as PromiseLike<unknown> | null)?.then === 'function') (work as PromiseLike<unknown>).then(release, release);
  else release();
}
