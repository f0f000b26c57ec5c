/**
 * What the agent sees when a call fails inside the server: fixed texts with a
 * reference to the audit record, plus machine-readable structuredContent where
 * the agent can act on it. A thrown error's message may quote queries,
 * parameters or secrets, so it never reaches the agent.
 */
export interface ToolErrorResult {
  [key: string]: unknown;
  content: { type: 'text'; text: string }[];
  isError: true;
  structuredContent?: Record<string, unknown>;
}

const UPSTREAM_CODE = /^upstream_[a-z0-9_]{1,48}$/;
const AUTH_REFRESH_CODE = /^auth_refresh_[a-z0-9_]{1,40}$/;
const STORE_CODE = /^([a-z]{1,20})_store_unavailable$/;

function result(text: string, structuredContent?: Record<string, unknown>): ToolErrorResult {
  return structuredContent ? { content: [{ type: 'text', text }], isError: true, structuredContent } : { content: [{ type: 'text', text }], isError: true };
}

export function internalErrorResult(callId: string, errorCode: string): ToolErrorResult {
  if (UPSTREAM_CODE.test(errorCode)) {
    return result(`Upstream request failed (${errorCode}); try again later (ref ${callId}).`);
  }
  if (AUTH_REFRESH_CODE.test(errorCode)) {
    return result(`The server's authorization with the upstream system failed (${errorCode}); an operator must reconnect it. Retrying will not help now (ref ${callId}).`);
  }
  const store = STORE_CODE.exec(errorCode);
  if (store) return result(`The server's ${store[1]} store is unavailable; try again shortly (ref ${callId}).`);
  return result(`Internal error (ref ${callId}).`);
}

export function deadlineExceededResult(callId: string, budgetMs: number): ToolErrorResult {
  return result(`Deadline exceeded: the call ran out of its ${budgetMs} ms budget (ref ${callId}).`, {
    deadline_exceeded: true,
    budget_ms: budgetMs,
    retryable: true,
  });
}

/** A call that stated no intent where its policy requires one (instrument/intent.ts): the model is told what to add. */
export function intentRequiredResult(callId: string, tool: string): ToolErrorResult {
  return result(
    `Refused: state why you are calling this tool in \`intent\` (one sentence, the goal it serves), then call ${tool} again with the same arguments and the intent (ref ${callId}).`,
    { intent_required: true, retryable: true, missing_argument: 'intent' },
  );
}

export function deniedResult(callId: string, scope: string): ToolErrorResult {
  return result(`Permission denied: this tool requires the scope "${scope}", which the token does not grant. Do not retry with the same token (ref ${callId}).`, {
    denied: true,
    permanent: true,
    retryable: false,
    missing_scope: scope,
  });
}

export function upstreamUnavailableResult(callId: string, retryAfterSeconds: number): ToolErrorResult {
  return result(`The upstream system is unavailable for this tenant (circuit open). Retry after ${retryAfterSeconds} seconds; do other work meanwhile (ref ${callId}).`, {
    upstream_unavailable: true,
    retry_after_seconds: retryAfterSeconds,
    retryable: true,
  });
}

export function idempotencyConflictResult(callId: string): ToolErrorResult {
  return result(`This idempotency key was already used for a different request; use a new key for a new action (ref ${callId}).`, {
    idempotency_key_reused: true,
    retryable: false,
  });
}

export function idempotencyInProgressResult(callId: string): ToolErrorResult {
  return result(`A call with the same idempotency key is still in progress; retry shortly to get its result (ref ${callId}).`, {
    in_progress: true,
    retryable: true,
  });
}

export function interruptedResult(callId: string, earlierCallId: string): ToolErrorResult {
  const earlier = earlierCallId ? ` (ref ${earlierCallId})` : '';
  return result(
    `An earlier call with this idempotency key${earlier} was interrupted before it finished: its effect may or may not have happened upstream. ` +
      `It was not run again, so it cannot happen twice. Check the outcome upstream before acting again, and use a new idempotency key if you do (ref ${callId}).`,
    { interrupted: true, retryable: false, earlier_call_id: earlierCallId },
  );
}

export function isErrorResult(value: unknown): boolean {
  return typeof value === 'object' && value !== null && (value as { isError?: unknown }).isError === true;
}

/** A round's requestState that mcptrail did not issue for this caller and tool, or that expired. */
export function invalidRequestStateResult(callId: string): ToolErrorResult {
  return result(`This continuation is not valid (expired, altered, or issued for another call): call the tool again from the start (ref ${callId}).`, {
    invalid_request_state: true,
    retryable: false,
  });
}

/** The tool needs the client's input, which this client (or this connection) cannot give. */
export function inputUnavailableResult(callId: string, tool: string, key: string, legacy: boolean): ToolErrorResult {
  const why = legacy
    ? 'this connection cannot carry it: the client did not declare the capability in initialize, or a stateless legacy connection cannot receive server requests. Connect with MCP 2026-07-28 (multi-round-trip), or over a connection that declares it'
    : 'the request did not declare the client capability it needs';
  return result(`${tool} needs the client's input ("${key}") to go on, and ${why}. Nothing was done (ref ${callId}).`, {
    input_unavailable: true,
    input: key,
    retryable: false,
  });
}
