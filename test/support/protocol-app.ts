/**
 * One fastify endpoint serving a v2 McpServer to both protocol eras, with
 * the parts the era tests exercise: scoped tools, an idempotent write, a
 * tool that asks for a confirmation (multi-round-trip), a job tool (a task
 * on 2026-07-28), a per-agent edge budget, an in-memory span exporter and a
 * record sink that validates every record. Plus the official clients.
 */
import type { AddressInfo } from 'node:net';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as TransportV1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpServer, acceptedContent, inputRequired } from '@modelcontextprotocol/server';
import { z } from 'zod';
import { createAuthenticator } from '../../packages/mcptrail/src/auth/index.js';
import { createMcpHttpApp } from '../../packages/mcptrail/src/instrument/fastify.js';
import { jobToolPolicies, registerJobTool, type ToolPolicy } from '../../packages/mcptrail/src/instrument/index.js';
import { Jobs, RateLimits } from '../../packages/mcptrail/src/runtime/index.js';
import { memorySink, type MemorySink } from './mcp-harness.js';

export const AGENTS = {
  modern: 'agent-modern',
  auto: 'agent-auto',
  legacy: 'agent-legacy',
  reader: 'agent-reader',
} as const;

/** One key per agent: each client mode spends its own edge budget. */
export const KEYS: Record<string, string> = Object.fromEntries(Object.values(AGENTS).map((a) => [a, `${a}-key-0123456789abcdef0123`]));

/** Calls per agent per hour the edge allows. */
export const AGENT_BUDGET = 12;

const Confirmation = z.object({ confirm: z.boolean() });

export const POLICIES: Record<string, ToolPolicy> = {
  echo: { scope: 'crm:read', kind: 'read', redact: { allow: ['text'] } },
  admin_reset: { scope: 'crm:admin', kind: 'write' },
  pay: { scope: 'crm:write', kind: 'write', redact: { allow: ['amount', 'confirm'] } },
  ...jobToolPolicies('report', { scope: 'crm:read' }),
};

export interface ProtocolApp {
  url: string;
  sink: MemorySink;
  jobs: Jobs;
  /** Resolves the running report job (each job waits for this). */
  releaseJobs(): void;
  /** Upstream-free effects of `pay` (one per executed payment). */
  payments: number[];
  close(): Promise<void>;
}

export async function startProtocolApp(): Promise<ProtocolApp> {
  const sink = memorySink();
  const jobs = new Jobs();
  const payments: number[] = [];
  let release!: () => void;
  let released = new Promise<void>((r) => (release = r));
  const authenticator = createAuthenticator({
    apiKeys: Object.fromEntries(
      Object.values(AGENTS).map((agentId) => [
        KEYS[agentId]!,
        { agentId, tenantId: 'tenant-p', scopes: agentId === AGENTS.reader ? ['crm:read'] : ['crm:read', 'crm:write', 'crm:admin'] },
      ]),
    ),
  });
  const app = await createMcpHttpApp({
    authenticator,
    sink,
    service: 'protocol-test',
    sdk: 'v2',
    tools: POLICIES,
    idempotency: true,
    edgeLimits: new RateLimits({ agent: { points: AGENT_BUDGET, perSeconds: 3600 } }),
    serverFactory: () => {
      const server = new McpServer({ name: 'protocol-test', version: '1.0.0' });
      server.registerTool('echo', { inputSchema: z.object({ text: z.string() }) }, async ({ text }) => ({ content: [{ type: 'text', text }] }));
      server.registerTool('admin_reset', { inputSchema: z.object({}) }, async () => ({ content: [{ type: 'text', text: 'reset' }] }));
      server.registerTool('pay', { inputSchema: z.object({ amount: z.number() }) }, async ({ amount }, ctx) => {
        const asked = JSON.stringify({ amount });
        if (ctx.mcpReq.requestState() !== asked) {
          return inputRequired({ inputRequests: { confirm: inputRequired.elicit({ message: `Pay ${amount}?`, requestedSchema: Confirmation }) }, requestState: asked });
        }
        if (acceptedContent(ctx.mcpReq.inputResponses, 'confirm', Confirmation)?.confirm !== true) return { content: [{ type: 'text', text: 'not confirmed' }], isError: true };
        payments.push(amount);
        return { content: [{ type: 'text', text: `paid ${amount}` }] };
      });
      registerJobTool(server, jobs, {
        name: 'report',
        description: 'A report that takes a while.',
        inputSchema: z.object({ size: z.number().int().optional() }),
        run: async ({ size }, { signal }) => {
          await new Promise<void>((resolve, reject) => {
            void released.then(resolve);
            signal.addEventListener('abort', () => reject(signal.reason), { once: true });
          });
          return { rows: size ?? 1 };
        },
      });
      return server;
    },
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    sink,
    jobs,
    payments,
    releaseJobs: () => {
      release();
      released = new Promise<void>((r) => (release = r));
    },
    close: () => app.close(),
  };
}

export type ClientMode = 'pinned' | 'auto' | 'legacy-v1';

export interface EraClient {
  callTool(name: string, args?: Record<string, unknown>): Promise<{ content?: { type: string; text?: string }[]; isError?: boolean; structuredContent?: unknown }>;
  listTools(): Promise<string[]>;
  close(): Promise<void>;
}

/**
 * The official client of a mode: v2 pinned to 2026-07-28, v2 `auto`, or v1.
 * The v2 clients answer elicitations (the confirmation) with `answer`.
 */
export async function eraClient(mode: ClientMode, url: string, agentId: string, answer: { confirm: boolean } = { confirm: true }): Promise<EraClient> {
  const requestInit = { headers: { authorization: `Bearer ${KEYS[agentId]}` } };
  if (mode === 'legacy-v1') {
    const client = new ClientV1({ name: 'legacy-client', version: '1.32.2' }, { capabilities: { elicitation: {} } });
    await client.connect(new TransportV1(new URL(url), { requestInit }));
    return {
      callTool: async (name, args = {}) => (await client.callTool({ name, arguments: args })) as never,
      listTools: async () => (await client.listTools()).tools.map((t) => t.name),
      close: () => client.close(),
    };
  }
  const client = new Client(
    { name: `${mode}-client`, version: '2.4.0' },
    { versionNegotiation: { mode: mode === 'pinned' ? { pin: '2026-07-28' } : 'auto' }, capabilities: { elicitation: {} } },
  );
  client.setRequestHandler('elicitation/create', async () => ({ action: 'accept', content: answer }));
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit }));
  return {
    callTool: async (name, args = {}) => (await client.callTool({ name, arguments: args })) as never,
    listTools: async () => (await client.listTools()).tools.map((t) => t.name),
    close: () => client.close(),
  };
}

/** A raw 2026-07-28 request (for what the SDK clients do not send: the tasks extension, forged state, odd headers). */
export async function modernRequest(
  url: string,
  agentId: string,
  method: string,
  params: Record<string, unknown>,
  opts: { headers?: Record<string, string>; name?: string; capabilities?: Record<string, unknown>; id?: number } = {},
): Promise<{ status: number; body: any }> {
  const meta = {
    'io.modelcontextprotocol/protocolVersion': '2026-07-28',
    'io.modelcontextprotocol/clientCapabilities': opts.capabilities ?? { extensions: { 'io.modelcontextprotocol/tasks': {} } },
    'io.modelcontextprotocol/clientInfo': { name: 'raw-client', version: '0.0.1' },
  };
  const headers: Record<string, string> = {
    authorization: `Bearer ${KEYS[agentId]}`,
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    'mcp-protocol-version': '2026-07-28',
    'mcp-method': method,
    ...(opts.name !== undefined ? { 'mcp-name': opts.name } : {}),
    ...opts.headers,
  };
  const res = await fetch(url, { method: 'POST', headers, body: JSON.stringify({ jsonrpc: '2.0', id: opts.id ?? 1, method, params: { ...params, _meta: meta } }) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}
