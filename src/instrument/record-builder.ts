import type { CallContext } from '../context/index.js';
import { emptyRecord, type CallRecord, type Outcome } from '../record/index.js';

export interface RecordFacts {
  service: string;
  toolVersion: string;
  toolDeprecated: boolean;
  scopeRequired: string;
  outcome: Outcome;
  errorClass: string;
  errorCode: string;
  durationMs: number;
  argsSummary: string;
  /** '' unless the call was refused by a budget. */
  rateLimitBudget: '' | 'agent' | 'tool' | 'tenant' | 'concurrency';
  /** sha256 of the idempotency key, '' when the call had none. */
  idempotencyKey: string;
  idempotentReplay: boolean;
}

const MAX_SCOPES = 64;

/** The CallRecord of a finished call; strings are clipped to the schema's bounds. */
export function buildRecord(ctx: CallContext, facts: RecordFacts): CallRecord {
  const record = emptyRecord();
  record.ts = new Date(ctx.startedAt).toISOString();
  record.call_id = ctx.callId;
  record.trace_id = ctx.traceId;
  record.span_id = ctx.spanId;
  record.session_id = ctx.sessionId.slice(0, 256);
  record.request_id = ctx.requestId.slice(0, 256);
  record.service = facts.service.slice(0, 128);
  record.tool = ctx.tool.slice(0, 128);
  record.tool_version = facts.toolVersion.slice(0, 32);
  record.tool_deprecated = facts.toolDeprecated;
  record.tenant_id = ctx.tenantId.slice(0, 128);
  record.agent_id = ctx.agentId.slice(0, 256);
  record.subject = ctx.subject.slice(0, 256);
  record.auth_method = ctx.authMethod;
  record.scope_required = facts.scopeRequired.slice(0, 128);
  record.scopes_granted = ctx.scopes.slice(0, MAX_SCOPES).map((s) => s.slice(0, 128));
  record.outcome = facts.outcome;
  record.error_class = facts.errorClass.slice(0, 128);
  record.error_code = facts.errorCode.slice(0, 64);
  record.duration_ms = Math.max(0, Math.round(facts.durationMs * 1000) / 1000);
  record.upstream_calls = ctx.upstreamCalls;
  record.upstream_retries = ctx.upstreamRetries;
  record.budget_ms_total = ctx.budgetMs;
  record.budget_ms_used = Math.min(ctx.budgetMs, Math.round(facts.durationMs));
  record.auth_refresh = ctx.authRefresh;
  record.auth_refresh_failed = ctx.authRefreshFailed;
  record.auth_refresh_reason = ctx.authRefreshReason.slice(0, 64);
  record.rate_limited = facts.rateLimitBudget !== '';
  record.rate_limit_budget = facts.rateLimitBudget;
  record.idempotency_key = facts.idempotencyKey.slice(0, 256);
  record.idempotent_replay = facts.idempotentReplay;
  record.args_summary = facts.argsSummary;
  return record;
}
