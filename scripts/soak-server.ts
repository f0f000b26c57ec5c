/**
 * The soak's MCP server, in its own process so the soak can SIGKILL it:
 * composed from the library's public API only (instrument, createMcpHttpApp,
 * createAuthenticator, createRecordSink, createShipper with a spool).
 * Env: SOAK_PORT, SOAK_COLLECTOR_URL, SOAK_SPOOL_DIR, SOAK_KEYS (JSON apiKeys).
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { createAuthenticator, createRecordSink, createShipper, instrument } from '../packages/mcptrail/src/index.js';
import { createMcpHttpApp } from '../packages/mcptrail/src/instrument/fastify.js';

const tools = { echo: { scope: 'crm:read' } };
const shipper = createShipper({ url: `${process.env.SOAK_COLLECTOR_URL}/v1/records`, spoolDir: process.env.SOAK_SPOOL_DIR, flushIntervalMs: 100, retryMaxMs: 2_000 });
const sink = createRecordSink({ shipper });
const authenticator = createAuthenticator({ apiKeys: JSON.parse(process.env.SOAK_KEYS ?? '{}') });

const app = await createMcpHttpApp({
  sdk: 'v1',
  service: 'soak-mcp',
  sink,
  authenticator,
  tools,
  serverFactory: () => {
    const server = new McpServer({ name: 'soak', version: '1.0.0' });
    server.registerTool('echo', { inputSchema: { text: z.string() } }, async ({ text }) => ({ content: [{ type: 'text' as const, text }] }));
    return instrument(server, { service: 'soak-mcp', sink, tools });
  },
});
app.get('/soak/stats', async () => ({ ...shipper.stats(), rss: process.memoryUsage().rss }));
await app.listen({ host: '127.0.0.1', port: Number(process.env.SOAK_PORT) });
process.stdout.write('ready\n');

process.on('SIGTERM', async () => {
  await app.close();
  await sink.close();
  process.exit(0);
});
