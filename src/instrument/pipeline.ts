/**
 * The per-call pipeline wrapped around one tool handler:
 * context ▸ span ▸ scope ▸ handler (inside the deadline) ▸ safe result ▸ record.
 */
import { randomUUID } from 'node:crypto';
import { context, isSpanContextValid, trace, type Tracer } from '@opentelemetry/api';
import { missingScope } from '../auth/index.js';
import { runWithCall, type CallContext } from '../context/index.js';
import { errorClass, errorCode, summarizeArgs, type Outcome, type RecordSink } from '../record/index.js';
import { Deadline, DEFAULT_BUDGET_MS } from '../runtime/index.js';
import type { ToolPolicy } from './policy.js';
import { buildRecord } from './record-builder.js';
import { readRequestInfo } from './request-info.js';
import { deadlineExceededResult, deniedResult, internalErrorResult, isErrorResult } from './safe-result.js';
import { failSpan, startToolSpan } from './tool-span.js';
import { chooseParent } from './trace-parent.js';

export interface PipelineDeps {
  service: string;
  sink: RecordSink;
  tracer: Tracer;
}

type Handler = (this: unknown, ...args: unknown[]) => unknown;

/** Marks our wrappers (double-wrap guard) and points back at the author's handler. */
export const ORIGINAL_HANDLER = Symbol.for('mcptrail.originalHandler');

export type WrappedHandler = Handler & { [ORIGINAL_HANDLER]: Handler };

export function isWrapped(fn: unknown): fn is WrappedHandler {
  return typeof fn === 'function' && ORIGINAL_HANDLER in fn;
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
  const { service, sink, tracer } = deps;

  const wrapped = async function (this: unknown, ...a: unknown[]): Promise<unknown> {
    // v1 calls handler(args, extra) or handler(extra); v2 the same via its executor.
    const extra = a[a.length - 1];
    const args = a.length > 1 ? a[0] : undefined;
    const info = readRequestInfo(extra);
    const principal = info.principal;
    const callId = randomUUID();
    const startedAt = Date.now();
    const t0 = performance.now();

    const { parent, links } = chooseParent(info);
    const span = startToolSpan(
      tracer,
      {
        tool,
        requestId: info.requestId,
        sessionId: info.sessionId,
        protocolVersion: info.protocolVersion,
        overHttp: info.overHttp,
        tenantId: principal?.tenantId ?? '',
        agentId: principal?.agentId ?? '',
        callId,
      },
      parent,
      links,
    );
    const sc = span.spanContext();
    const traced = isSpanContextValid(sc);

    const ctx: CallContext = {
      tenantId: principal?.tenantId ?? '',
      agentId: principal?.agentId ?? '',
      subject: principal?.subject ?? '',
      authMethod: principal?.method ?? 'none',
      scopes: principal?.scopes ?? [],
      traceId: traced ? sc.traceId : '',
      spanId: traced ? sc.spanId : '',
      sessionId: info.sessionId,
      requestId: info.requestId,
      callId,
      tool,
      startedAt,
      budgetMs,
      signal: info.signal,
      upstreamCalls: 0,
      upstreamRetries: 0,
      authRefresh: 0,
      authRefreshFailed: 0,
      authRefreshReason: '',
    };

    let outcome: Outcome = 'ok';
    let errClass = '';
    let errCode = '';
    let result: unknown;
    let rethrow: unknown;

    try {
      const missing = missingScope(scopeRequired, ctx.scopes);
      if (missing) {
        outcome = 'denied';
        errClass = 'ScopeError';
        errCode = 'insufficient_scope';
        failSpan(span, 'insufficient_scope');
        result = deniedResult(callId, missing);
      } else {
        result = await context.with(trace.setSpan(parent, span), () => runWithCall(ctx, () => handler.apply(this, a)));
        if (isErrorResult(result)) {
          outcome = 'tool_error';
          failSpan(span, 'tool_error');
        }
      }
    } catch (err) {
      errClass = errorClass(err);
      errCode = errorCode(err);
      failSpan(span, errClass);
      if (PASS_THROUGH_CODES.has((err as { code?: unknown })?.code as number)) {
        outcome = 'system_error';
        rethrow = err;
      } else if ((err as { budgetExhausted?: unknown })?.budgetExhausted === true || Deadline.of(ctx).expired()) {
        outcome = 'deadline_exceeded';
        result = deadlineExceededResult(callId, budgetMs);
      } else {
        outcome = 'system_error';
        result = internalErrorResult(callId, errCode);
      }
    } finally {
      span.end();
      emitSafely(sink, () =>
        buildRecord(ctx, {
          service,
          toolVersion,
          toolDeprecated,
          scopeRequired,
          outcome,
          errorClass: errClass,
          errorCode: errCode,
          durationMs: performance.now() - t0,
          argsSummary: summarizeArgs(args, redact),
        }),
      );
    }
    if (rethrow) throw rethrow;
    return result;
  } as WrappedHandler;

  wrapped[ORIGINAL_HANDLER] = handler;
  return wrapped;
}

/** Auditing must never break the call it audits. */
function emitSafely(sink: RecordSink, build: () => Parameters<RecordSink['emit']>[0]): void {
  try {
    sink.emit(build());
  } catch {
    // A failing sink is visible through its own counters; the agent still gets its answer.
  }
}
