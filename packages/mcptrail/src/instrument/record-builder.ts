import type { CallContext } from '../context/index.js';
import type { CallRecord, Outcome } from '../record/index.js';
import type { RATE_LIMIT_BUDGETS, RecordKind } from '../record/schema.js';
import { recordedClientText, recordedProtocolVersion, recordedRequestId } from './sanitize.js';

export type RateLimitBudget = (typeof RATE_LIMIT_BUDGETS)[number];

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
  rateLimitBudget: RateLimitBudget;
  /** sha256 of the idempotency key, '' when the call had none. */
  idempotencyKey: string;
  idempotentReplay: boolean;
  /** The tools/call messages the record accounts for (default 1; a refused HTTP request: all of them). */
  callsInRequest?: number;
  /** The request's era and client (request-info.ts); '' when unknown. */
  protocolVersion?: string;
  clientName?: string;
  clientVersion?: string;
  /** Default `tools/call`. */
  mcpMethod?: string;
  /** Default `call`; `task` for the record of a task's work after its call returned. */
  recordKind?: RecordKind;
  taskId?: string;
  /** The first round's call id (default: this record's own call id) and this round's number (default 1). */
  logicalCallId?: string;
  round?: number;
  /** Redacted JSON of what a round asked the client for, and of what the client answered. */
  inputRequestsSummary?: string;
  inputResponsesSummary?: string;
  /** The agent's stated intent, already masked and bounded (record/intent.ts); ''. */
  intent?: string;
}

const MAX_SCOPES = 64;

/**
 * The CallRecord of a finished call; strings are clipped to the schema's bounds
 * and the caller's request id sanitised (sanitize.ts).
 * One object literal in the schema's field order (the order JSON lines keep),
 * rather than emptyRecord() overwritten field by field; a test holds the two
 * orders equal.
 */
export function buildRecord(ctx: CallContext, facts: RecordFacts): CallRecord {
  return {
    ts: isoTimestamp(ctx.startedAt),
    call_id: ctx.callId,
    trace_id: ctx.traceId,
    span_id: ctx.spanId,
    session_id: ctx.sessionId.slice(0, 256),
    request_id: recordedRequestId(ctx.requestId),
    service: facts.service.slice(0, 128),
    tool: ctx.tool.slice(0, 128),
    tool_version: facts.toolVersion.slice(0, 32),
    tool_deprecated: facts.toolDeprecated,
    tenant_id: ctx.tenantId.slice(0, 128),
    agent_id: ctx.agentId.slice(0, 256),
    subject: ctx.subject.slice(0, 256),
    auth_method: ctx.authMethod,
    scope_required: facts.scopeRequired.slice(0, 128),
    scopes_granted: ctx.scopes.slice(0, MAX_SCOPES).map((s) => s.slice(0, 128)),
    outcome: facts.outcome,
    error_class: facts.errorClass.slice(0, 128),
    error_code: facts.errorCode.slice(0, 64),
    duration_ms: Math.max(0, Math.round(facts.durationMs * 1000) / 1000),
    upstream_calls: ctx.upstreamCalls,
    upstream_retries: ctx.upstreamRetries,
    budget_ms_total: ctx.budgetMs,
    budget_ms_used: Math.min(ctx.budgetMs, Math.round(facts.durationMs)),
    auth_refresh: ctx.authRefresh,
    auth_refresh_failed: ctx.authRefreshFailed,
    auth_refresh_reason: ctx.authRefreshReason.slice(0, 64),
    rate_limited: facts.rateLimitBudget !== '',
    rate_limit_budget: facts.rateLimitBudget,
    idempotency_key: facts.idempotencyKey.slice(0, 256),
    idempotent_replay: facts.idempotentReplay,
    args_summary: facts.argsSummary,
    calls_in_request: Math.min(1_000_000, facts.callsInRequest ?? 1),
    protocol_version: recordedProtocolVersion(facts.protocolVersion ?? ''),
    client_name: recordedClientText(facts.clientName ?? '', 128),
    client_version: recordedClientText(facts.clientVersion ?? '', 64),
    mcp_method: (facts.mcpMethod ?? 'tools/call').slice(0, 64),
    record_kind: facts.recordKind ?? 'call',
    task_id: (facts.taskId ?? '').slice(0, 128),
    logical_call_id: (facts.logicalCallId ?? ctx.callId).slice(0, 64),
    round: Math.min(10_000, Math.max(1, facts.round ?? 1)),
    input_requests_summary: facts.inputRequestsSummary ?? '',
    input_responses_summary: facts.inputResponsesSummary ?? '',
    intent: (facts.intent ?? '').slice(0, 300),
  };
}

// Date#toISOString per record is a measurable part of building it; calls in
// the same second share everything up to the milliseconds.
const MAX_DATE_MS = 8.64e15;
let cachedSecond = Number.NaN;
let cachedPrefix = '';

/** `new Date(ms).toISOString()`, the seconds prefix reused within one second. */
export function isoTimestamp(ms: number): string {
  // Outside 1970..275760 (or not whole ms), Date has the last word (a longer year, or RangeError).
  if (!Number.isInteger(ms) || ms < 0 || ms >= MAX_DATE_MS) return new Date(ms).toISOString();
  const second = Math.floor(ms / 1000);
  const milli = ms - second * 1000;
  if (second !== cachedSecond) {
    const iso = new Date(ms).toISOString();
    cachedSecond = second;
    cachedPrefix = iso.slice(0, -4); // up to and including the '.'
    return iso;
  }
  return `${cachedPrefix}${milli < 10 ? '00' : milli < 100 ? '0' : ''}${milli}Z`;
}
