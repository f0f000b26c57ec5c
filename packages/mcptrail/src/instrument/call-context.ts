/**
 * The CallContext of one tools/call, built the same way wherever a call is
 * accounted for: the pipeline, the HTTP edge's refusals and the SDK-rejection
 * guard. Identity comes from the verified principal only.
 */
import { isSpanContextValid, type Span } from '@opentelemetry/api';
import type { Principal } from '../auth/index.js';
import type { CallContext } from '../context/index.js';

export interface CallContextInput {
  principal: Principal | undefined;
  /** The call's SERVER span: its ids go on the record. */
  span: Span;
  sessionId: string;
  requestId: string;
  callId: string;
  tool: string;
  startedAt: number;
  budgetMs: number;
  signal?: AbortSignal;
}

export function newCallContext(c: CallContextInput): CallContext {
  const sc = c.span.spanContext();
  const traced = isSpanContextValid(sc);
  return {
    tenantId: c.principal?.tenantId ?? '',
    agentId: c.principal?.agentId ?? '',
    subject: c.principal?.subject ?? '',
    authMethod: c.principal?.method ?? 'none',
    scopes: c.principal?.scopes ?? [],
    traceId: traced ? sc.traceId : '',
    spanId: traced ? sc.spanId : '',
    sessionId: c.sessionId,
    requestId: c.requestId,
    callId: c.callId,
    tool: c.tool,
    startedAt: c.startedAt,
    budgetMs: c.budgetMs,
    signal: c.signal,
    // freshCounters()'s values, written out: no spread per call (the CallContext type keeps the list complete).
    upstreamCalls: 0,
    upstreamRetries: 0,
    authRefresh: 0,
    authRefreshFailed: 0,
    authRefreshReason: '',
    idempotencyKey: '',
    upstreamWrites: 0,
  };
}
