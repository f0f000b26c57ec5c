/**
 * Refusals decided at the HTTP edge, while the answer is still an HTTP
 * status: a `tools/call` whose tool scope the token lacks (403
 * insufficient_scope, RFC 6750 §3.1 step-up challenge), and the whole-request
 * budgets (429 + Retry-After; 403 for a permanent denial). Both happen before
 * the MCP SDK runs, so the tool's pipeline never sees these calls.
 */
import { insufficientScopeChallenge, missingScope, type Principal } from '../auth/index.js';
import type { Outcome } from '../record/index.js';
import { httpRetryAfter, type RateLimits } from '../runtime/index.js';
import type { ToolPolicy } from './policy.js';
import type { RateLimitBudget } from './record-builder.js';

/** Server-defined JSON-RPC error codes (-32000..-32099). */
export const JSONRPC_FORBIDDEN = -32003;
export const JSONRPC_RATE_LIMITED = -32029;

export interface EdgeRefusal {
  status: 403 | 429;
  headers: Record<string, string>;
  outcome: Outcome;
  errorClass: string;
  errorCode: string;
  rateLimitBudget: RateLimitBudget;
  error: { code: number; message: string; data: Record<string, unknown> };
}

export async function edgeCheck(
  tool: string,
  principal: Principal,
  policy: ToolPolicy,
  limits: RateLimits | undefined,
  resourceMetadataUrl: string,
): Promise<EdgeRefusal | undefined> {
  const missing = missingScope(policy.scope, principal.scopes);
  if (missing) {
    return {
      status: 403,
      headers: { 'www-authenticate': insufficientScopeChallenge(missing, { resourceMetadataUrl }) },
      outcome: 'denied',
      errorClass: 'ScopeError',
      errorCode: 'insufficient_scope',
      rateLimitBudget: '',
      error: {
        code: JSONRPC_FORBIDDEN,
        message: `Permission denied: the tool requires the scope "${missing}". Do not retry with the same token.`,
        data: { reason: 'insufficient_scope', scope: missing, retryable: false },
      },
    };
  }
  if (!limits) return undefined;
  const decision = await limits.take({ tenantId: principal.tenantId, agentId: principal.agentId, tool });
  if (decision.allowed) return undefined;
  const http = httpRetryAfter(decision);
  const headers = Object.fromEntries(Object.entries(http.headers).map(([k, v]) => [k.toLowerCase(), v]));
  if (decision.permanent) {
    return {
      status: 403,
      headers,
      outcome: 'denied',
      errorClass: 'PermanentDenial',
      errorCode: decision.reason.slice(0, 64),
      rateLimitBudget: '',
      error: { code: JSONRPC_FORBIDDEN, message: `Permanently denied (${decision.reason}); retrying will not help.`, data: http.body },
    };
  }
  return {
    status: 429,
    headers,
    outcome: 'rate_limited',
    errorClass: 'RateLimited',
    errorCode: `rate_limited_${decision.budget}`,
    rateLimitBudget: decision.budget,
    error: {
      code: JSONRPC_RATE_LIMITED,
      message: `Rate limited: retry after ${decision.retryAfterSeconds} seconds.`,
      data: { rate_limited: true, retry_after_seconds: decision.retryAfterSeconds, budget: decision.budget, retryable: true },
    },
  };
}

/**
 * Scope and edge budgets for every tools/call of a request. A budget refusal
 * answers the whole request; scope refusals do only when no call in it is
 * allowed: in a batch with an allowed call, the pipeline serves that call and
 * denies the others (a tool result and a record each). Returns the refusal
 * and the call it is about.
 */
export async function checkRequestCalls<M>(
  calls: readonly M[],
  toolOf: (message: M) => string,
  principal: Principal,
  policyOf: (tool: string) => ToolPolicy,
  limits: RateLimits | undefined,
  resourceMetadataUrl: string,
): Promise<{ message: M; refusal: EdgeRefusal } | undefined> {
  let scopeDenied: { message: M; refusal: EdgeRefusal } | undefined;
  let denials = 0;
  for (const message of calls) {
    const tool = toolOf(message);
    const refusal = await edgeCheck(tool, principal, policyOf(tool), limits, resourceMetadataUrl);
    if (!refusal) continue;
    if (refusal.errorClass !== 'ScopeError') return { message, refusal };
    scopeDenied ??= { message, refusal };
    denials++;
  }
  return scopeDenied && denials === calls.length ? scopeDenied : undefined;
}
