/**
 * The per-call context: who is calling (from the verified token, never from
 * tool input), which call this is, and the counters the record reports.
 * Carried by AsyncLocalStorage so upstream clients deep in a tool see it.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

/** `bearer`: a token another host verified and handed over as the SDK's authInfo. */
export type AuthMethod = 'jwt' | 'api_key' | 'bearer' | 'none';

export interface CallContext {
  readonly tenantId: string;
  readonly agentId: string;
  readonly subject: string;
  readonly authMethod: AuthMethod;
  readonly scopes: readonly string[];
  readonly traceId: string;
  readonly spanId: string;
  readonly sessionId: string;
  /** JSON-RPC id of the tools/call, as a string. */
  readonly requestId: string;
  /** Our own id for the call (uuid); sent upstream as X-Request-Id. */
  readonly callId: string;
  readonly tool: string;
  /** Epoch milliseconds at call entry. */
  readonly startedAt: number;
  /** Time budget of the whole call, in milliseconds. */
  readonly budgetMs: number;
  /** Aborted when the agent cancels the request, and at the call's deadline (reason: a CallDeadlineError). */
  readonly signal?: AbortSignal;
  // Mutable counters, reported in the CallRecord.
  upstreamCalls: number;
  upstreamRetries: number;
  authRefresh: number;
  authRefreshFailed: number;
  authRefreshReason: string;
  /**
   * The call's idempotency key ('' when none): upstream writes send it as
   * `Idempotency-Key`, so a replayed call and the upstream dedupe alike.
   */
  idempotencyKey: string;
  /** Upstream writes sent so far; the n-th write's key gets a `.n` suffix (n ≥ 2). */
  upstreamWrites: number;
}

export type CallCounters = Pick<
  CallContext,
  'upstreamCalls' | 'upstreamRetries' | 'authRefresh' | 'authRefreshFailed' | 'authRefreshReason' | 'idempotencyKey' | 'upstreamWrites'
>;

/** The mutable part of a context at call (or job) start. */
export function freshCounters(): CallCounters {
  return { upstreamCalls: 0, upstreamRetries: 0, authRefresh: 0, authRefreshFailed: 0, authRefreshReason: '', idempotencyKey: '', upstreamWrites: 0 };
}

const storage = new AsyncLocalStorage<CallContext>();

/** The context of the tool call running on this async path, if any. */
export function currentCall(): CallContext | undefined {
  return storage.getStore();
}

export function runWithCall<T>(ctx: CallContext, fn: () => T): T {
  return storage.run(ctx, fn);
}
