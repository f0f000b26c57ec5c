/**
 * One call told in a few structured lines, for `GET /api/calls/:callId/explain`
 * and the `audit_explain_call` MCP tool: who called with which scopes, what
 * the pipeline decided (limits, budget, retries, credential refresh,
 * idempotent replay), what happened upstream (the CLIENT spans under the
 * call's SERVER span) and the outcome. Everything comes from the stored record
 * and spans; recorded values (arguments summary, ids) are data, never
 * instructions, and whoever shows them to a model wraps them as such.
 */
import type { CallRecord } from 'mcptrail/record';
import { TABLES, type QueryParams, type Store } from '../store/index.js';
import { getTrace, type SpanView } from './traces.js';

export interface UpstreamStep {
  name: string;
  spanId: string;
  method?: string;
  /** Host and path, without the query string. */
  target?: string;
  status?: number;
  durationMs: number;
  /** 0 for the first send, n for the n-th resend (retry or re-authentication). */
  resend: number;
  error?: string;
}

export interface CallExplanation {
  callId: string;
  ts: string;
  tenant: string;
  tool: string;
  who: { agent: string; subject: string; authMethod: string; sessionId: string };
  /** Why the agent said it made the call (masked at the source; '' when it stated none). Caller text: data, never instructions. */
  intent: string;
  /** The recorded argument summary (redacted at the source: types, lengths, hashes; values only of allow-listed fields). */
  args: string;
  scopes: { required: string; granted: string[]; allowed: boolean };
  pipeline: {
    rateLimited: boolean;
    rateLimitBudget: string;
    budgetMs: { total: number; used: number };
    upstreamCalls: number;
    upstreamRetries: number;
    authRefresh: { refreshed: number; failed: number; reason: string };
    idempotency: { key: boolean; replay: boolean };
  };
  upstream: UpstreamStep[];
  outcome: { outcome: string; errorClass: string; errorCode: string; durationMs: number };
  traceId: string;
  /** The same, as short lines a person (or a model, inside an untrusted-data boundary) reads. */
  lines: string[];
}

const CALL_SQL = (tenant: boolean, window: boolean) => `
SELECT * FROM ${TABLES.toolCalls}
WHERE call_id = toUUID({callId:String})${tenant ? ' AND tenant_id = {tenant:String}' : ''}${window ? ' AND ts >= fromUnixTimestamp64Milli({fromMs:Int64}) AND ts <= fromUnixTimestamp64Milli({toMs:Int64})' : ''}
LIMIT 1`;

const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

export function isCallId(value: string): boolean {
  return UUID.test(value);
}

/** undefined when no such call is stored (or it belongs to another tenant than `tenant`). */
export async function explainCall(store: Store, callId: string, opts: { tenant?: string; aroundMs?: number } = {}): Promise<CallExplanation | undefined> {
  if (!isCallId(callId)) throw new RangeError('callId must be a UUID');
  const params: QueryParams = { callId: callId.toLowerCase() };
  if (opts.tenant !== undefined) params.tenant = opts.tenant;
  // A time hint (the record's ts, ± a day) prunes the daily partitions; without it the call-id bloom filter does the work.
  if (opts.aroundMs !== undefined) {
    params.fromMs = Math.floor(opts.aroundMs - 86_400_000);
    params.toMs = Math.ceil(opts.aroundMs + 86_400_000);
  }
  const [call] = await store.query<CallRecord>(CALL_SQL(opts.tenant !== undefined, opts.aroundMs !== undefined), params);
  if (!call) return undefined;
  const spans = call.trace_id ? (await getTrace(store, call.trace_id, { tenant: opts.tenant })).spans : [];
  return describe(call, upstreamSteps(spans, call.span_id));
}

/** The CLIENT spans below the call's SERVER span, in start order. */
function upstreamSteps(spans: SpanView[], serverSpanId: string): UpstreamStep[] {
  if (!serverSpanId) return [];
  const below = new Set([serverSpanId]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const s of spans) {
      if (!below.has(s.spanId) && below.has(s.parentSpanId)) {
        below.add(s.spanId);
        grew = true;
      }
    }
  }
  return spans
    .filter((s) => s.kind === 'Client' && below.has(s.spanId))
    .sort((a, b) => a.startTime.localeCompare(b.startTime))
    .map((s) => {
      const a = s.attributes ?? {};
      const status = a['http.response.status_code'] !== undefined ? Number(a['http.response.status_code']) : undefined;
      return {
        name: a['mcptrail.upstream.name'] ?? s.name,
        spanId: s.spanId,
        method: a['http.request.method'],
        target: targetOf(a['url.full']),
        status: Number.isFinite(status) ? status : undefined,
        durationMs: s.durationMs,
        resend: Number(a['http.request.resend_count'] ?? 0) || 0,
        error: s.statusCode === 'Error' ? (a['error.type'] ?? 'error') : undefined,
      };
    });
}

function targetOf(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    const u = new URL(url);
    return `${u.host}${u.pathname}`;
  } catch {
    return undefined;
  }
}

function describe(c: CallRecord, upstream: UpstreamStep[]): CallExplanation {
  const granted = c.scopes_granted ?? [];
  const allowed = c.outcome !== 'denied' && c.outcome !== 'unauthenticated';
  const e: Omit<CallExplanation, 'lines'> = {
    callId: c.call_id,
    ts: c.ts,
    tenant: c.tenant_id,
    tool: c.tool,
    who: { agent: c.agent_id, subject: c.subject, authMethod: c.auth_method, sessionId: c.session_id },
    intent: c.intent ?? '',
    args: c.args_summary,
    scopes: { required: c.scope_required, granted, allowed },
    pipeline: {
      rateLimited: c.rate_limited,
      rateLimitBudget: c.rate_limit_budget,
      budgetMs: { total: Number(c.budget_ms_total), used: Number(c.budget_ms_used) },
      upstreamCalls: Number(c.upstream_calls),
      upstreamRetries: Number(c.upstream_retries),
      authRefresh: { refreshed: Number(c.auth_refresh), failed: Number(c.auth_refresh_failed), reason: c.auth_refresh_reason },
      idempotency: { key: c.idempotency_key !== '', replay: c.idempotent_replay },
    },
    upstream,
    outcome: { outcome: c.outcome, errorClass: c.error_class, errorCode: c.error_code, durationMs: Number(c.duration_ms) },
    traceId: c.trace_id,
  };
  return { ...e, lines: lines(e) };
}

function lines(e: Omit<CallExplanation, 'lines'>): string[] {
  const p = e.pipeline;
  const out = [
    `who: agent ${e.who.agent || '(none)'}${e.who.subject ? ` (subject ${e.who.subject})` : ''} of tenant ${e.tenant || '(none)'}, authenticated by ${e.who.authMethod}, called ${e.tool} at ${e.ts}`,
    `intent (stated by the agent): ${e.intent || 'none stated'}`,
    `arguments (redacted): ${e.args && e.args !== '{}' ? e.args : 'none'}`,
    `scopes: ${e.scopes.required ? `needed ${e.scopes.required}` : 'no scope needed'}; granted ${e.scopes.granted.length ? e.scopes.granted.join(' ') : 'none'}${e.scopes.allowed ? '' : ' → refused'}`,
    `limits: ${p.rateLimited ? `rate-limited by the ${p.rateLimitBudget || 'unknown'} budget` : 'within rate limits'}`,
    `budget: ${p.budgetMs.total > 0 ? `used ${p.budgetMs.used} of ${p.budgetMs.total} ms` : 'no deadline budget'}`,
    `upstream: ${p.upstreamCalls} request(s), ${p.upstreamRetries} retr${p.upstreamRetries === 1 ? 'y' : 'ies'}` +
      (p.authRefresh.refreshed || p.authRefresh.failed
        ? `; credentials refreshed ${p.authRefresh.refreshed}×${p.authRefresh.failed ? `, ${p.authRefresh.failed} failed${p.authRefresh.reason ? ` (${p.authRefresh.reason})` : ''}` : ''}`
        : ''),
    `idempotency: ${p.idempotency.replay ? 'replayed the stored result of an earlier call with the same key (the tool did not run again)' : p.idempotency.key ? 'keyed write, first execution' : 'not keyed'}`,
  ];
  for (const s of e.upstream) {
    const what = [s.method, s.target ?? s.name].filter(Boolean).join(' ');
    out.push(`  ${what}${s.status !== undefined ? ` → ${s.status}` : ''} in ${s.durationMs.toFixed(1)} ms${s.resend ? ` (resend ${s.resend})` : ''}${s.error ? `, error ${s.error}` : ''}`);
  }
  const err = [e.outcome.errorClass, e.outcome.errorCode].filter(Boolean).join(':');
  out.push(`outcome: ${e.outcome.outcome}${err ? ` (${err})` : ''} after ${e.outcome.durationMs.toFixed(1)} ms`);
  return out;
}
