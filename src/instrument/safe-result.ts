/**
 * What the agent sees when a call fails inside the server: a fixed text with
 * a reference to the audit record. A thrown error's message may quote
 * queries, parameters or secrets, so it never reaches the agent.
 */
export interface ToolErrorResult {
  [key: string]: unknown;
  content: { type: 'text'; text: string }[];
  isError: true;
}

const UPSTREAM_CODE = /^upstream_[a-z0-9_]{1,48}$/;

function result(text: string): ToolErrorResult {
  return { content: [{ type: 'text', text }], isError: true };
}

export function internalErrorResult(callId: string, errorCode: string): ToolErrorResult {
  if (UPSTREAM_CODE.test(errorCode)) {
    return result(`Upstream request failed (${errorCode}); try again later (ref ${callId}).`);
  }
  return result(`Internal error (ref ${callId}).`);
}

export function deadlineExceededResult(callId: string, budgetMs: number): ToolErrorResult {
  return result(`Deadline exceeded: the call ran out of its ${budgetMs} ms budget (ref ${callId}).`);
}

export function deniedResult(callId: string, scope: string): ToolErrorResult {
  return result(`Permission denied: this tool requires the scope "${scope}", which the token does not grant. Do not retry with the same token (ref ${callId}).`);
}

export function isErrorResult(value: unknown): boolean {
  return typeof value === 'object' && value !== null && (value as { isError?: unknown }).isError === true;
}
