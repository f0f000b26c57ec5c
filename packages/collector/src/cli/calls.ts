/** `mcptrail calls`: which agent ran which tool, for whom, and what happened. */
import type { CallRecord } from 'mcptrail/record';
import type { CallFilter } from '../audit/index.js';
import { table, shortTime, ms, type Column } from './format.js';
import type { AuditReader } from './reader.js';

export async function callsCommand(reader: AuditReader, filter: CallFilter, json: boolean): Promise<string> {
  const calls = await reader.listCalls(filter);
  if (json) return JSON.stringify(calls, null, 2);
  if (calls.length === 0) return `no calls match (since ${filter.since ?? '1h'}; source ${reader.source})`;
  return `${callsTable(calls)}\n${calls.length} call(s); \`mcptrail trace <TRACE>\` shows what happened upstream.`;
}

/** The calls as aligned columns, plus `extra` ones (also the text form of the audit_search_calls MCP tool). */
export function callsTable(calls: readonly CallRecord[], extra: readonly Column<CallRecord>[] = []): string {
  return table<CallRecord>(calls, [
    { header: 'TIME (UTC)', value: (c) => shortTime(c.ts) },
    { header: 'TENANT', value: (c) => c.tenant_id || '-' },
    { header: 'AGENT', value: (c) => c.agent_id || '-' },
    { header: 'TOOL', value: (c) => c.tool + (c.tool_version ? `@${c.tool_version}` : '') },
    { header: 'OUTCOME', value: (c) => c.outcome + (c.idempotent_replay ? ' (replay)' : '') },
    { header: 'ERROR', value: (c) => [c.error_class, c.error_code].filter(Boolean).join(':') || '-', max: 32 },
    { header: 'MS', value: (c) => ms(c.duration_ms), align: 'right' },
    { header: 'UPSTREAM', value: (c) => `${c.upstream_calls}${c.upstream_retries ? `+${c.upstream_retries}r` : ''}`, align: 'right' },
    { header: 'TRACE', value: (c) => c.trace_id || '-', max: 32 },
    ...extra,
  ]);
}
