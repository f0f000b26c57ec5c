/**
 * A thrown error → the call's outcome and the agent's safe answer. Only the
 * error's class, code and a few structural fields are read, never its message.
 */
import type { Outcome } from '../record/index.js';
import {
  deadlineExceededResult,
  idempotencyConflictResult,
  idempotencyInProgressResult,
  internalErrorResult,
  upstreamUnavailableResult,
  type ToolErrorResult,
} from './safe-result.js';

export interface FailureAnswer {
  outcome: Outcome;
  result: ToolErrorResult;
}

interface ErrorShape {
  name?: unknown;
  budgetExhausted?: unknown;
  retryAfterSeconds?: unknown;
}

export function failureAnswer(err: unknown, code: string, callId: string, budgetMs: number, deadlineExpired: boolean): FailureAnswer {
  const e = (err ?? {}) as ErrorShape;
  if (e.name === 'UpstreamUnavailableError') {
    const retryAfter = typeof e.retryAfterSeconds === 'number' ? e.retryAfterSeconds : 30;
    return { outcome: 'upstream_unavailable', result: upstreamUnavailableResult(callId, retryAfter) };
  }
  if (e.budgetExhausted === true || deadlineExpired) {
    return { outcome: 'deadline_exceeded', result: deadlineExceededResult(callId, budgetMs) };
  }
  if (e.name === 'IdempotencyConflictError') return { outcome: 'tool_error', result: idempotencyConflictResult(callId) };
  if (e.name === 'IdempotencyWaitTimeoutError') return { outcome: 'system_error', result: idempotencyInProgressResult(callId) };
  return { outcome: 'system_error', result: internalErrorResult(callId, code) };
}

/** Thrown when the handler outlives the call's budget: the agent is answered, the handler is abandoned. */
export class CallDeadlineError extends Error {
  override readonly name = 'CallDeadlineError';
  readonly code = 'deadline_exceeded';
  readonly budgetExhausted = true;
  constructor() {
    super('the call budget ran out before the tool answered');
  }
}

/**
 * Races `work` against the remaining budget; at the deadline `deadline` (the
 * call's controller) is aborted with the same CallDeadlineError, so the
 * handler and its upstream requests can stop. Written with one promise and
 * one reaction rather than Promise.race + finally: with async hooks on (any
 * OTel context manager), every promise a call creates costs a hook round trip.
 */
export function withinBudget<T>(work: T | PromiseLike<T>, remainingMs: number, deadline?: { abort(reason: unknown): void }): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      const err = new CallDeadlineError();
      deadline?.abort(err);
      reject(err);
    }, Math.max(0, remainingMs));
    Promise.resolve(work).then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}
