/**
 * The soak's MCP server, in its own process so the soak (and the
 * restart-during-writes test) can SIGKILL it: composed from the library's
 * public API only (instrument, createMcpHttpApp, createAuthenticator,
 * createRecordSink, createShipper with a spool, fileIdempotencyStore,
 * createUpstreamClient, startTelemetry).
 *
 * Tools: `echo` (a read) and `refund` (a write: POST /refunds to an upstream
 * that does not deduplicate, the demo's crm.issue_refund in miniature).
 * Env: SOAK_PORT, SOAK_COLLECTOR_URL, SOAK_SPOOL_DIR, SOAK_KEYS (JSON apiKeys),
 * SOAK_IDEM_DIR (the idempotency journal), SOAK_UPSTREAM_URL, SOAK_TRACES=1
 * (export spans to the collector).
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import {
  createAuthenticator,
  createRecordSink,
  createShipper,
  createUpstreamClient,
  fileIdempotencyStore,
  instrument,
  startTelemetry,
} from '../packages/mcptrail/src/index.js';
import { createMcpHttpApp } from '../packages/mcptrail/src/instrument/fastify.js';

const collectorUrl = process.env.SOAK_COLLECTOR_URL!;
const telemetry = process.env.SOAK_TRACES === '1' ? startTelemetry({ serviceName: 'soak-mcp', endpoint: collectorUrl, spoolDir: process.env.SOAK_SPOOL_DIR ? `${process.env.SOAK_SPOOL_DIR}/spans` : false }) : undefined;
const tools = {
  echo: { scope: 'crm:read' },
  refund: { scope: 'crm:write', kind: 'write' as const, budgetMs: 5_000 },
};
const shipper = createShipper({ url: `${collectorUrl}/v1/records`, spoolDir: process.env.SOAK_SPOOL_DIR, flushIntervalMs: 100, retryMaxMs: 2_000 });
const sink = createRecordSink({ shipper });
const authenticator = createAuthenticator({ apiKeys: JSON.parse(process.env.SOAK_KEYS ?? '{}') });
const idempotency = process.env.SOAK_IDEM_DIR ? fileIdempotencyStore({ dir: process.env.SOAK_IDEM_DIR, pendingTtlMs: 10_000 }) : undefined;
// The upstream issues a refund per POST: the request is never retried, and never repeated by a retried call.
const upstream = createUpstreamClient({ name: 'payments', baseUrl: process.env.SOAK_UPSTREAM_URL ?? 'http://127.0.0.1:9', retry: false, breakers: false });

const app = await createMcpHttpApp({
  sdk: 'v1',
  service: 'soak-mcp',
  sink,
  authenticator,
  tools,
  serverFactory: () => {
    const server = new McpServer({ name: 'soak', version: '1.0.0' });
    server.registerTool('echo', { inputSchema: { text: z.string() } }, async ({ text }) => ({ content: [{ type: 'text' as const, text }] }));
    server.registerTool('refund', { inputSchema: { order: z.string(), amount: z.number() } }, async ({ order, amount }) => {
      const res = await upstream.request({ method: 'POST', path: '/refunds', body: { order, amount } });
      return { content: [{ type: 'text' as const, text: JSON.stringify(res.body) }] };
    });
    return instrument(server, { service: 'soak-mcp', sink, tools, idempotency });
  },
});
app.get('/soak/stats', async () => ({ ...shipper.stats(), rss: process.memoryUsage().rss }));
await app.listen({ host: '127.0.0.1', port: Number(process.env.SOAK_PORT) });
process.stdout.write('ready\n');

process.on('SIGTERM', async () => {
  await app.close();
  await sink.close();
  await idempotency?.close();
  await telemetry?.shutdown();
  process.exit(0);
});
