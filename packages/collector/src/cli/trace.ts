/** `mcptrail trace <traceId>`: the spans of one trace as a tree, with its audit records. */
import { isTraceId, type TraceView } from '../audit/index.js';
import { clientOf, intentOf } from './calls.js';
import { shortTime, ms } from './format.js';
import type { AuditReader } from './reader.js';
import { CliError } from './reader.js';

type Span = TraceView['spans'][number];

export async function traceCommand(reader: AuditReader, traceId: string, json: boolean): Promise<string> {
  if (!isTraceId(traceId)) throw new CliError(`"${traceId}" is not a trace id: expected 32 lowercase hex characters`, 2);
  const view = await reader.getTrace(traceId);
  if (json) return JSON.stringify(view, null, 2);
  return traceText(traceId, view);
}

/** The trace as a span tree and its records (also the text form of the audit_get_trace MCP tool). */
export function traceText(traceId: string, view: TraceView): string {
  if (view.spans.length === 0 && view.calls.length === 0) return `trace ${traceId}: nothing stored (yet). Spans arrive within a few seconds of the call.`;

  const lines = [`trace ${traceId}: ${view.spans.length} span(s), ${view.calls.length} call record(s)`];
  const stored = new Set(view.spans.map((s) => s.spanId));
  const waiting = view.calls.filter((c) => c.span_id && !stored.has(c.span_id)).length;
  if (waiting > 0) {
    // Records ship within a fraction of a second; spans are exported in batches, a few seconds apart.
    lines.push(`  (the span${waiting > 1 ? 's' : ''} of ${waiting} record(s) ${waiting > 1 ? 'are' : 'is'} not stored yet: spans are exported in batches and arrive within seconds — run this again)`);
  }
  const byParent = new Map<string, Span[]>();
  const ids = new Set(view.spans.map((s) => s.spanId));
  for (const s of view.spans) {
    const parent = s.parentSpanId && ids.has(s.parentSpanId) ? s.parentSpanId : '';
    byParent.set(parent, [...(byParent.get(parent) ?? []), s]);
  }
  const walk = (parent: string, depth: number): void => {
    for (const s of byParent.get(parent) ?? []) {
      const status = s.statusCode === 'Error' ? ` ERROR${s.statusMessage ? ` (${s.statusMessage})` : ''}` : '';
      const http = s.attributes['http.response.status_code'] ? ` → ${s.attributes['http.response.status_code']}` : '';
      lines.push(`${'  '.repeat(depth + 1)}${s.kind.toUpperCase().padEnd(8)} ${s.serviceName}: ${s.name}${http}  ${ms(s.durationMs)} ms${status}`);
      walk(s.spanId, depth + 1);
    }
  };
  walk('', 0);
  // Rounds of one logical call are listed together, under the call they continue.
  const logical = (c: (typeof view.calls)[number]) => c.logical_call_id || c.call_id;
  const rounds = new Map<string, number>();
  for (const c of view.calls) rounds.set(logical(c), (rounds.get(logical(c)) ?? 0) + 1);
  const shown = new Set<string>();
  for (const c of view.calls) {
    const id = logical(c);
    const many = (rounds.get(id) ?? 1) > 1;
    if (many && !shown.has(id)) {
      shown.add(id);
      lines.push(`logical call ${id}: ${rounds.get(id)} rounds (tool=${c.tool} agent=${c.agent_id})`);
    }
    const kind = c.record_kind === 'task' ? ` task=${c.task_id}` : c.task_id ? ` started task=${c.task_id}` : '';
    lines.push(
      `${many ? '  ' : ''}record ${c.call_id}: ${shortTime(c.ts)} tenant=${c.tenant_id} agent=${c.agent_id} tool=${c.tool} outcome=${c.outcome}` +
        (many ? ` round=${c.round}` : '') +
        kind +
        ` client=${clientOf(c)} mcp=${c.protocol_version || '-'}` +
        ` upstream_calls=${c.upstream_calls} retries=${c.upstream_retries} ${ms(c.duration_ms)} ms`,
    );
    if (c.intent) lines.push(`${many ? '  ' : ''}  intent: ${intentOf(c)}`);
  }
  return lines.join('\n');
}
