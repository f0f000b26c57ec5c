/** `mcptrail calls`: which agent ran which tool, for whom, and what happened. */
import type { CallRecord } from 'mcptrail/record';
import type { CallFilter } from '../audit/index.js';
import { table, shortTime, ms, type Column } from './format.js';
import type { AuditReader } from './reader.js';

export async function callsCommand(reader: AuditReader, filter: CallFilter, json: boolean): Promise<string> {
  const calls = await reader.listCalls(filter);
  if (json) return JSON.stringify(calls, null, 2);
  if (calls.length === 0) return `no calls match (since ${filter.since ?? '1h'}; source ${reader.source})`;
  return (
    `${callsTable(calls)}\n${calls.length} call(s)${filter.rounds === 'all' ? ' (every round)' : ''}; \`mcptrail trace <TRACE>\` shows what happened upstream` +
    (filter.rounds === 'all' ? '.' : ', `--rounds` every round of multi-round-trip calls.')
  );
}

/** The calls as aligned columns, plus `extra` ones (also the text form of the audit_search_calls MCP tool). */
export function callsTable(calls: readonly CallRecord[], extra: readonly Column<CallRecord>[] = []): string {
  return table<CallRecord>(calls, [
    { header: 'TIME (UTC)', value: (c) => shortTime(c.ts) },
    { header: 'TENANT', value: (c) => c.tenant_id || '-' },
    { header: 'AGENT', value: (c) => c.agent_id || '-' },
    { header: 'CLIENT', value: (c) => clientOf(c), max: 32 },
    { header: 'MCP', value: (c) => c.protocol_version || '-' },
    { header: 'TOOL', value: (c) => c.tool + (c.tool_version ? `@${c.tool_version}` : '') + (c.record_kind === 'task' ? ' [task]' : '') },
    { header: 'OUTCOME', value: (c) => c.outcome + notes(c) },
    { header: 'ERROR', value: (c) => [c.error_class, c.error_code].filter(Boolean).join(':') || '-', max: 32 },
    { header: 'MS', value: (c) => ms(c.duration_ms), align: 'right' },
    { header: 'UPSTREAM', value: (c) => `${c.upstream_calls}${c.upstream_retries ? `+${c.upstream_retries}r` : ''}`, align: 'right' },
    { header: 'TRACE', value: (c) => c.trace_id || '-', max: 32 },
    ...extra,
    // Last: the widest column, and free text (clipped; control characters shown as spaces).
    { header: 'INTENT', value: (c) => intentOf(c), max: 96 },
  ]);
}

/** The stated intent as one line ('-' when none). */
export function intentOf(c: CallRecord): string {
  return (c.intent ?? '').replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ').trim() || '-';
}

/** `name/version` as the client declared it. */
export function clientOf(c: CallRecord): string {
  return c.client_name ? c.client_name + (c.client_version ? `/${c.client_version}` : '') : '-';
}

function notes(c: CallRecord): string {
  const out: string[] = [];
  if (c.idempotent_replay) out.push('replay');
  if (c.round > 1) out.push(`round ${c.round}`);
  return out.length ? ` (${out.join(', ')})` : '';
}
