import { serve } from '@hono/node-server';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { McpServer, createMcpHandler, requireBearerAuth } from '@modelcontextprotocol/server';
import { z } from 'zod';
import { instrument } from 'mcptrail';
const jwks = createRemoteJWKSet(new URL(process.env.JWKS_URL!));
const verifier = { async verifyAccessToken(token: string) {
  const { payload: p } = await jwtVerify(token, jwks, { issuer: process.env.JWT_ISSUER, audience: process.env.MCP_AUDIENCE });
  return { token, clientId: String(p.client_id), scopes: String(p.scope).split(' '), expiresAt: p.exp, extra: { tenant_id: p.tenant_id } };
} };
const gate = requireBearerAuth({ verifier });
const mcp = createMcpHandler(() => {
  const server = instrument(new McpServer({ name: 'crm-mcp', version: '1.0.0' })); // the one line
  server.registerTool('crm.search_contacts', { inputSchema: z.object({ query: z.string() }) }, async ({ query }) => ({ content: [{ type: 'text', text: `no contact matches ${query}` }] }));
  return server;
});
serve({ port: Number(process.env.PORT ?? 3000), fetch: async (request: Request) => {
  const auth = await gate(request);
  return auth instanceof Response ? auth : mcp.fetch(request, { authInfo: auth });
} }, (info) => console.log('listening on', info));
