/**
 * The CallContext of one tools/call, built the same way wherever a call is
 * accounted for: the pipeline, the HTTP edge's refusals and the SDK-rejection
 * guard. Identity comes from the verified principal only.
 */
import { isSpanContextValid, type Span } from '@opentelemetry/api';
import type { Principal } from '../auth/index.js';
import type { CallContext } from '../context/index.js';
import { CallAbort } from './call-abort.js';

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
  /** The SDK's request signal (refusals and rejections: no deadline of ours). */
  signal?: AbortSignal;
  /** The pipeline's: cancellation and the deadline, made on first read. */
  abort?: CallAbort;
}

export function newCallContext(c: CallContextInput): CallContext {
  return new CallState(c);
}

/**
 * A class rather than a literal so that `signal` can be a getter (the
 * pipeline's lazily made CallAbort) without giving every call an accessor
 * object; the fields are own properties, so `{ ...ctx }` copies them.
 */
class CallState implements CallContext {
  readonly tenantId: string;
  readonly agentId: string;
  readonly subject: string;
  readonly authMethod: CallContext['authMethod'];
  readonly scopes: readonly string[];
  readonly traceId: string;
  readonly spanId: string;
  readonly sessionId: string;
  readonly requestId: string;
  readonly callId: string;
  readonly tool: string;
  readonly startedAt: number;
  readonly budgetMs: number;
  // freshCounters()'s values, written out (the CallContext type keeps the list complete).
  upstreamCalls = 0;
  upstreamRetries = 0;
  authRefresh = 0;
  authRefreshFailed = 0;
  authRefreshReason = '';
  idempotencyKey = '';
  upstreamWrites = 0;
  private readonly abortSource: CallAbort | AbortSignal | undefined;

  constructor(c: CallContextInput) {
    const sc = c.span.spanContext();
    const traced = isSpanContextValid(sc);
    this.tenantId = c.principal?.tenantId ?? '';
    this.agentId = c.principal?.agentId ?? '';
    this.subject = c.principal?.subject ?? '';
    this.authMethod = c.principal?.method ?? 'none';
    this.scopes = c.principal?.scopes ?? [];
    this.traceId = traced ? sc.traceId : '';
    this.spanId = traced ? sc.spanId : '';
    this.sessionId = c.sessionId;
    this.requestId = c.requestId;
    this.callId = c.callId;
    this.tool = c.tool;
    this.startedAt = c.startedAt;
    this.budgetMs = c.budgetMs;
    this.abortSource = c.abort ?? c.signal;
  }

  get signal(): AbortSignal | undefined {
    const source = this.abortSource;
    return source instanceof CallAbort ? source.signal : source;
  }
}
