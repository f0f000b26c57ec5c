/**
 * Realistic tool-call records and spans for the dashboard and alert tests:
 * built from the CallRecord schema's neutral record, validated by its zod
 * schema, and inserted as NDJSON so the rollup's materialized view fills
 * `tool_calls_1m` exactly as production ingest does.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { CallRecordSchema, emptyRecord, type CallRecord, type Outcome } from '../../packages/mcptrail/src/record/schema.js';
import type { Store } from '../../packages/collector/src/store/index.js';

export const MINUTE = 60_000;

export const startOfMinute = (t: number) => Math.floor(t / MINUTE) * MINUTE;

const hex = (bytes: number) => randomBytes(bytes).toString('hex');

/** A deterministic pseudo-random sequence, so a seeded scenario is the same on every run. */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface CallShape {
  tenant: string;
  tool: string;
  outcome?: Outcome;
  durationMs?: number;
  agent?: string;
  authRefresh?: number;
  authRefreshFailed?: number;
  upstreamRetries?: number;
  traceId?: string;
}

/** One validated call record at time `ts`. */
export function callRecord(ts: number, c: CallShape): CallRecord {
  const outcome = c.outcome ?? 'ok';
  const rec: CallRecord = {
    ...emptyRecord(),
    ts: new Date(ts).toISOString(),
    call_id: randomUUID(),
    trace_id: c.traceId ?? hex(16),
    span_id: hex(8),
    session_id: `sess-${c.agent ?? 'agent'}`,
    request_id: String(Math.floor(ts % 100000)),
    service: 'crm-mcp',
    tool: c.tool,
    tool_version: '1.2.0',
    tenant_id: c.tenant,
    agent_id: c.agent ?? `${c.tenant}-agent-1`,
    subject: `user@${c.tenant}.example`,
    auth_method: 'jwt',
    scope_required: c.tool.endsWith('update_deal') ? 'crm:write' : 'crm:read',
    scopes_granted: ['crm:read', 'crm:write'],
    outcome,
    error_class: outcome === 'ok' ? '' : outcomeErrorClass(outcome),
    error_code: outcome === 'ok' ? '' : outcome.toUpperCase(),
    duration_ms: c.durationMs ?? 80,
    upstream_calls: outcome === 'rate_limited' || outcome === 'denied' ? 0 : 1 + (c.upstreamRetries ?? 0),
    upstream_retries: c.upstreamRetries ?? 0,
    budget_ms_total: 2000,
    budget_ms_used: Math.min(2000, Math.round(c.durationMs ?? 80)),
    auth_refresh: c.authRefresh ?? 0,
    auth_refresh_failed: c.authRefreshFailed ?? 0,
    auth_refresh_reason: c.authRefreshFailed ? 'invalid_grant' : c.authRefresh ? 'expiring' : '',
    rate_limited: outcome === 'rate_limited',
    rate_limit_budget: outcome === 'rate_limited' ? 'tenant' : '',
  };
  return CallRecordSchema.parse(rec);
}

function outcomeErrorClass(o: Outcome): string {
  switch (o) {
    case 'deadline_exceeded':
      return 'DeadlineExceeded';
    case 'upstream_unavailable':
      return 'CircuitOpen';
    case 'system_error':
      return 'UpstreamHttpError';
    case 'rate_limited':
      return 'RateLimited';
    default:
      return 'ToolError';
  }
}

/** `count` calls spread over the minute starting at `minuteStart`. */
export function callsInMinute(minuteStart: number, count: number, shape: (i: number) => CallShape): CallRecord[] {
  return Array.from({ length: count }, (_, i) => callRecord(minuteStart + Math.floor(((i + 0.5) * MINUTE) / count), shape(i)));
}

export async function insertCalls(store: Store, records: readonly CallRecord[]): Promise<void> {
  // Blocks of a few thousand rows, as the collector's writer batches them.
  for (let i = 0; i < records.length; i += 5000) {
    const body = records
      .slice(i, i + 5000)
      .map((r) => JSON.stringify(r))
      .join('\n');
    await store.insertNDJSON('mcptrail.tool_calls', body + '\n');
  }
}

/** A SERVER span and an upstream CLIENT child for a call, in the OTel exporter's columns. */
export function spansForCall(rec: CallRecord): Record<string, unknown>[] {
  const startNs = BigInt(Date.parse(rec.ts)) * 1_000_000n;
  const durNs = BigInt(Math.round(rec.duration_ms * 1e6));
  const serverSpan = rec.span_id || hex(8);
  const error = rec.outcome !== 'ok' && rec.outcome !== 'tool_error';
  const ts = (ns: bigint) => {
    const ms = ns / 1_000_000n;
    const frac = (ns % 1_000_000_000n).toString().padStart(9, '0');
    return new Date(Number(ms)).toISOString().slice(0, 19) + '.' + frac;
  };
  const common = {
    TraceId: rec.trace_id,
    TraceState: '',
    ServiceName: rec.service,
    ResourceAttributes: { 'service.name': rec.service, 'mcptrail.tenant_id': rec.tenant_id },
    ScopeName: 'mcptrail',
    ScopeVersion: '0.1.0',
    StatusMessage: '',
    'Events.Timestamp': [],
    'Events.Name': [],
    'Events.Attributes': [],
    'Links.TraceId': [],
    'Links.SpanId': [],
    'Links.TraceState': [],
    'Links.Attributes': [],
  };
  return [
    {
      ...common,
      Timestamp: ts(startNs),
      SpanId: serverSpan,
      ParentSpanId: '',
      SpanName: `tools/call ${rec.tool}`,
      SpanKind: 'Server',
      SpanAttributes: { 'mcp.method.name': 'tools/call', 'gen_ai.tool.name': rec.tool, 'mcptrail.tenant_id': rec.tenant_id },
      Duration: durNs.toString(),
      StatusCode: error ? 'Error' : 'Unset',
    },
    {
      ...common,
      Timestamp: ts(startNs + 1_000_000n),
      SpanId: hex(8),
      ParentSpanId: serverSpan,
      SpanName: 'GET /contacts',
      SpanKind: 'Client',
      SpanAttributes: { 'http.request.method': 'GET', 'http.response.status_code': error ? '503' : '200' },
      Duration: (durNs > 2_000_000n ? durNs - 2_000_000n : durNs).toString(),
      StatusCode: error ? 'Error' : 'Unset',
    },
  ];
}

export async function insertSpans(store: Store, spans: readonly Record<string, unknown>[]): Promise<void> {
  await store.insertNDJSON('mcptrail.otel_traces', spans.map((s) => JSON.stringify(s)).join('\n') + '\n');
}
