import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';

// A tenant read token (MCPTRAIL_READ_TOKENS) sees its own tenant only; an operator token sees all.
const url = new URL('/mcp', process.env.MCPTRAIL_COLLECTOR_URL ?? 'http://127.0.0.1:4318');
const headers = { authorization: `Bearer ${process.env.MCPTRAIL_READ_TOKEN}` };
const client = new Client({ name: 'refund-auditor', version: '1.0.0' }, { versionNegotiation: { mode: 'auto' } });
await client.connect(new StreamableHTTPClientTransport(url, { requestInit: { headers } }));

const found = await client.callTool({ name: 'audit_search_calls', arguments: { tool: 'crm.issue_refund', since: '1h', limit: 1 } });
const [refund] = (found.structuredContent as { calls: { call_id: string; agent_id: string }[] }).calls;
if (!refund) throw new Error('no refund in the last hour');
const why = await client.callTool({ name: 'audit_explain_call', arguments: { call_id: refund.call_id } });
console.log(`the last refund was issued by ${refund.agent_id}:`);
console.log((why.structuredContent as { lines: string[] }).lines.join('\n'));
await client.close();
