import Fastify from 'fastify';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { createAuthenticator } from 'mcptrail';
import { mcptrailFastify } from 'mcptrail/fastify';

const app = Fastify();
await app.register(mcptrailFastify, {
  authenticator: createAuthenticator({ jwt: { jwksUrl: process.env.JWKS_URL!, issuer: process.env.JWT_ISSUER!, audience: process.env.MCP_AUDIENCE! } }),
  defaults: { intent: 'optional' }, // every tool lists an `intent` argument; what the agent states is recorded, masked
  tools: { 'crm.issue_refund': { scope: 'refunds:write', kind: 'write', intent: 'required' } }, // no reason, no refund
  serverFactory: () => {
    const server = new McpServer({ name: 'crm-mcp', version: '1.0.0' });
    // The handler (and its schema) never see `intent`: mcptrail takes it out before the SDK validates arguments.
    server.registerTool('crm.issue_refund', { inputSchema: { deal_id: z.string(), amount: z.number() } }, async ({ deal_id, amount }) => ({ content: [{ type: 'text', text: `refunded ${amount} on ${deal_id}` }] }));
    return server;
  },
});
await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 3000) });
console.log('listening on', app.server.address());
