import Fastify from 'fastify';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { createAuthenticator } from 'mcptrail';
import { mcptrailFastify } from 'mcptrail/fastify';

const app = Fastify();
app.get('/health', async () => ({ ok: true })); // the app's own routes and hooks stay as they are
await app.register(mcptrailFastify, {
  authenticator: createAuthenticator({ jwt: { jwksUrl: process.env.JWKS_URL!, issuer: process.env.JWT_ISSUER!, audience: process.env.MCP_AUDIENCE! } }),
  tools: { 'crm.search_contacts': { scope: 'contacts:read', kind: 'read', budgetMs: 5_000 } }, // edge and pipeline read the same policies
  serverFactory: () => {
    const server = new McpServer({ name: 'crm-mcp', version: '1.0.0' });
    server.registerTool('crm.search_contacts', { inputSchema: { query: z.string() } }, async ({ query }) => ({ content: [{ type: 'text', text: `no contact matches ${query}` }] }));
    return server;
  },
});
await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 3000) });
console.log('listening on', app.server.address());
