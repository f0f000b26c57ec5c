import type { PermanentlyDenied, RateLimited } from './types.js';

/** The MCP `CallToolResult` shape, kept structural so both SDK lines accept it. */
export interface ToolErrorResult {
  [key: string]: unknown;
  isError: true;
  content: Array<{ type: 'text'; text: string }>;
  structuredContent: Record<string, unknown>;
}

const BUDGET_WORDS: Record<RateLimited['budget'], string> = {
  agent: "this agent's call budget",
  tool: "this tool's call budget",
  tenant: "the tenant's call budget",
  concurrency: "the tenant's concurrent-call limit",
};

/**
 * A result agents can act on: machine-readable budget and wait, plus text a
 * model reads ("do other work, come back in N s") instead of retrying at once.
 */
export function rateLimitedResult(decision: RateLimited): ToolErrorResult {
  const s = decision.retryAfterSeconds;
  return {
    isError: true,
    content: [
      {
        type: 'text',
        text: `Rate limited: ${BUDGET_WORDS[decision.budget]} is used up. Retry after ${s} second${s === 1 ? '' : 's'}; do other work meanwhile.`,
      },
    ],
    structuredContent: { rate_limited: true, retry_after_seconds: s, budget: decision.budget, retryable: true },
  };
}

/** A refusal agents must not retry: policy, not load. */
export function permanentDenyResult(decision: PermanentlyDenied): ToolErrorResult {
  return {
    isError: true,
    content: [
      {
        type: 'text',
        text: `Permanently denied (${decision.reason}). Retrying will not help; ask an operator.`,
      },
    ],
    structuredContent: { denied: true, permanent: true, retryable: false, reason: decision.reason },
  };
}

export interface HttpRefusal {
  status: 429 | 403;
  headers: Record<string, string>;
  body: Record<string, unknown>;
}

/** For the HTTP edge: 429 + Retry-After for budgets, 403 without Retry-After for permanent denials. */
export function httpRetryAfter(decision: RateLimited | PermanentlyDenied): HttpRefusal {
  if (decision.permanent) {
    return {
      status: 403,
      headers: {},
      body: { error: 'permanently_denied', reason: decision.reason, retryable: false },
    };
  }
  return {
    status: 429,
    headers: { 'Retry-After': String(decision.retryAfterSeconds) },
    body: { error: 'rate_limited', budget: decision.budget, retry_after_seconds: decision.retryAfterSeconds },
  };
}
