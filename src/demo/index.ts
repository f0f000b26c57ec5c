/**
 * The demo stack: upstream CRM ◂ instrumented CRM MCP server ◂ synthetic
 * agents, with spans and records flowing to a collector. Writes
 * `<dataDir>/demo.json` so a person or a test can call the server as an agent.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createServer, type AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { createAuthenticator } from '../auth/index.js';
import { createLogger, createRecordSink, createShipper, type RecordSink } from '../record/index.js';
import { startTelemetry } from '../telemetry/index.js';
import { createCrmMcpApp, CRM_SERVICE } from './crm-server.js';
import { startUpstreamCrm, type UpstreamCrm } from './upstream-crm.js';
import { startAgentFleet, type AgentFleet } from './agents.js';
import { DEMO_AGENTS, DEMO_ISSUER, mintAgentToken, newDemoSecret, newUpstreamKeys } from './tenants.js';

export { startUpstreamCrm } from './upstream-crm.js';
export { callToolTraced } from './agents.js';
export { DEMO_AGENTS } from './tenants.js';

export interface DemoOptions {
  collectorUrl: string;
  dataDir: string;
  host?: string;
  mcpPort?: number;
  upstreamPort?: number;
  ingestToken?: string;
  /** Calls per second per synthetic agent; 0 starts no agents. */
  ratePerAgent?: number;
  /** Where the MCP server's record lines go (default: a file under dataDir, so the console stays readable). */
  recordLog?: NodeJS.WritableStream;
}

export interface DemoFile {
  mcpUrl: string;
  collectorUrl: string;
  upstreamUrl: string;
  agents: Array<{ agentId: string; tenantId: string; token: string; scopes: string[] }>;
}

export interface Demo {
  file: DemoFile;
  filePath: string;
  upstream: UpstreamCrm;
  fleet?: AgentFleet;
  close(): Promise<void>;
}

export async function startDemo(opts: DemoOptions): Promise<Demo> {
  const host = opts.host ?? '127.0.0.1';
  await mkdir(opts.dataDir, { recursive: true });

  const upstreamKeys = newUpstreamKeys();
  const upstream = await startUpstreamCrm({ tenantKeys: upstreamKeys }, { host, port: opts.upstreamPort ?? 3100 });

  const telemetry = startTelemetry({ serviceName: CRM_SERVICE, endpoint: opts.collectorUrl, headers: ingestHeaders(opts.ingestToken) });
  const shipper = createShipper({ url: `${opts.collectorUrl}/v1/records`, token: opts.ingestToken });
  const logger = createLogger({ destination: opts.recordLog ?? join(opts.dataDir, 'mcp-server.log') });
  const sink: RecordSink = createRecordSink({ logger, shipper });

  const secret = newDemoSecret();
  // The resource URL is the tokens' audience, so the port must be known
  // before the server is built: port 0 (tests) resolves to a free port first.
  let app: FastifyInstance | undefined;
  const mcpPort = opts.mcpPort === 0 ? await freePort(host) : (opts.mcpPort ?? 3000);
  const resourceUrl = `http://${host}:${mcpPort}/mcp`;
  const authenticator = createAuthenticator({ jwt: { secret, issuer: DEMO_ISSUER, audience: resourceUrl } });
  app = await createCrmMcpApp({ upstreamUrl: upstream.url, upstreamKeys, authenticator, sink, resourceUrl });
  await app.listen({ host, port: mcpPort });
  const mcpUrl = resourceUrl;

  const agents = await Promise.all(
    DEMO_AGENTS.map(async (a) => ({ ...a, token: await mintAgentToken(a, secret, resourceUrl) })),
  );
  const file: DemoFile = {
    mcpUrl,
    collectorUrl: opts.collectorUrl,
    upstreamUrl: upstream.url,
    agents: agents.map(({ agentId, tenantId, token, scopes }) => ({ agentId, tenantId, token, scopes })),
  };
  const filePath = join(opts.dataDir, 'demo.json');
  await writeFile(filePath, JSON.stringify(file, null, 2) + '\n', { mode: 0o600 });

  const fleet =
    (opts.ratePerAgent ?? 0.5) > 0
      ? await startAgentFleet({ mcpUrl, collectorUrl: opts.collectorUrl, ingestToken: opts.ingestToken, agents, ratePerAgent: opts.ratePerAgent })
      : undefined;

  return {
    file,
    filePath,
    upstream,
    fleet,
    async close() {
      await fleet?.stop();
      await app?.close();
      await sink.close();
      await telemetry.shutdown();
      await upstream.close();
    },
  };
}

function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, host, () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

function ingestHeaders(token: string | undefined): Record<string, string> | undefined {
  return token ? { authorization: `Bearer ${token}` } : undefined;
}
