import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { z } from 'zod';
import { instrument } from 'mcptrail';

// stdio carries no credential: calls are recorded with auth_method "none", this tenant, and the client's declared name as agent.
const server = instrument(new McpServer({ name: 'notes-mcp', version: '1.0.0' }), { tenant: 'acme' });
server.registerTool('notes.search', { inputSchema: { query: z.string() } }, async ({ query }) => ({ content: [{ type: 'text', text: `no note matches ${query}` }] }));
await server.connect(new StdioServerTransport());
