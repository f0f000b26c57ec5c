/**
 * Real parts for MCP tests: an in-process OTel provider with an in-memory
 * exporter, a record sink that keeps records, v1 and v2 servers with the same
 * tools, the fastify app on 127.0.0.1:0 and the official SDK clients.
 */
import type { AddressInfo } from 'node:net';
import { McpServer as McpServerV1 } from '@modelcontextprotocol/sdk/server/mcp.js';
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as TransportV1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpServer as McpServerV2 } from '@modelcontextprotocol/server';
import { Client as ClientV2, StreamableHTTPClientTransport as TransportV2 } from '@modelcontextprotocol/client';
import { InMemorySpanExporter, NodeTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-node';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Authenticator } from '../../packages/mcptrail/src/auth/index.js';
import { currentCall } from '../../packages/mcptrail/src/context/index.js';
import { instrument, type AnyMcpServer, type ToolPolicy } from '../../packages/mcptrail/src/instrument/index.js';
import { createMcpHttpApp } from '../../packages/mcptrail/src/instrument/fastify.js';
import { CallRecordSchema, type CallRecord, type RecordSink } from '../../packages/mcptrail/src/record/index.js';
import { createUpstreamClient } from '../../packages/mcptrail/src/runtime/index.js';

export type SdkLine = 'v1' | 'v2';

let tracing: { exporter: InMemorySpanExporter; provider: NodeTracerProvider } | undefined;

/** One global provider per test process (the OTel API accepts only one). */
export function installTracing(): InMemorySpanExporter {
  if (!tracing) {
    const exporter = new InMemorySpanExporter();
    const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    provider.register();
    tracing = { exporter, provider };
  }
  return tracing.exporter;
}

export interface MemorySink extends RecordSink {
  records: CallRecord[];
}

/** Keeps records and validates each against the schema, as the collector would. */
export function memorySink(): MemorySink {
  const records: CallRecord[] = [];
  return {
    records,
    emit(record) {
      records.push(CallRecordSchema.parse(record));
    },
    flush: async () => {},
    close: async () => {},
  };
}

export const POLICIES: Record<string, ToolPolicy> = {
  echo: { scope: 'crm:read', version: '3', redact: { allow: ['text'] } },
  secure: { scope: 'crm:admin' },
  call_upstream: { budgetMs: 5_000 },
  slow_upstream: { budgetMs: 400 },
};

const text = (s: string) => ({ content: [{ type: 'text' as const, text: s }] });

export interface ServerSetup {
  upstreamUrl?: string;
  /** Extra tool registrations after instrument() (e.g. a throwing tool). */
  extra?: (register: (name: string, shape: Record<string, z.ZodType>, cb: (args: any) => unknown) => void) => void;
}

/**
 * The same tools on either SDK line. `echo` is registered before instrument()
 * and the rest after, so both wrapping paths are exercised.
 */
export function buildServer(line: SdkLine, sink: RecordSink, setup: ServerSetup = {}): AnyMcpServer {
  const server = line === 'v1' ? new McpServerV1({ name: 'test-v1', version: '1.0.0' }) : new McpServerV2({ name: 'test-v2', version: '1.0.0' });
  const register = (name: string, shape: Record<string, z.ZodType>, cb: (args: any) => unknown) => {
    if (line === 'v1') (server as McpServerV1).registerTool(name, { inputSchema: shape }, cb as never);
    else (server as McpServerV2).registerTool(name, { inputSchema: z.object(shape) }, cb as never);
  };

  register('echo', { text: z.string() }, async ({ text: t }) => text(t));
  instrument(server, { service: `svc-${line}`, sink, tools: POLICIES });

  register('whoami', {}, async () => {
    const c = currentCall();
    return text(JSON.stringify({ tenant: c?.tenantId, agent: c?.agentId, tool: c?.tool }));
  });
  register('fail', {}, async () => ({ ...text('no such customer'), isError: true }));
  register('secure', {}, async () => text('classified'));
  if (setup.upstreamUrl) {
    const upstream = createUpstreamClient({ name: 'crm', baseUrl: setup.upstreamUrl });
    register('call_upstream', {}, async () => {
      const res = await upstream.request({ method: 'GET', path: '/v1/ping', query: { q: 'x', token: 'query-secret' } });
      return text(JSON.stringify(res.body));
    });
    register('slow_upstream', {}, async () => {
      const res = await upstream.request({ method: 'GET', path: '/slow' });
      return text(JSON.stringify(res.body));
    });
  }
  setup.extra?.(register);
  return server;
}

export interface RunningApp {
  url: string;
  app: FastifyInstance;
  close(): Promise<void>;
}

export async function startMcpApp(
  line: SdkLine,
  opts: { authenticator: Authenticator; sink: RecordSink; setup?: ServerSetup; /** Let the app detect the SDK line. */ probe?: boolean },
): Promise<RunningApp> {
  const app = await createMcpHttpApp({
    serverFactory: () => buildServer(line, opts.sink, opts.setup),
    authenticator: opts.authenticator,
    sink: opts.sink,
    service: `svc-${line}`,
    sdk: opts.probe ? undefined : line,
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/mcp`, app, close: () => app.close() };
}

export interface ToolResult {
  content?: { type: string; text?: string }[];
  isError?: boolean;
}

export interface McpTestClient {
  callTool(name: string, args?: Record<string, unknown>, meta?: Record<string, string>): Promise<ToolResult>;
  close(): Promise<void>;
}

/** The official client of the given SDK line, over real HTTP. */
export async function connectClient(line: SdkLine, url: string, headers: Record<string, string>): Promise<McpTestClient> {
  const requestInit = { headers };
  if (line === 'v1') {
    const client = new ClientV1({ name: 'test-agent', version: '1.0.0' });
    await client.connect(new TransportV1(new URL(url), { requestInit }));
    return {
      callTool: async (name, args = {}, meta) =>
        (await client.callTool({ name, arguments: args, ...(meta ? { _meta: meta } : {}) })) as ToolResult,
      close: () => client.close(),
    };
  }
  const client = new ClientV2({ name: 'test-agent', version: '1.0.0' });
  await client.connect(new TransportV2(new URL(url), { requestInit }));
  return {
    callTool: async (name, args = {}, meta) =>
      (await client.callTool({ name, arguments: args, ...(meta ? { _meta: meta } : {}) })) as ToolResult,
    close: () => client.close(),
  };
}

/** A W3C traceparent with fresh random ids. */
export function newTraceparent(): { header: string; traceId: string; spanId: string } {
  const hex = (n: number) => Array.from(crypto.getRandomValues(new Uint8Array(n)), (b) => b.toString(16).padStart(2, '0')).join('');
  const traceId = hex(16);
  const spanId = hex(8);
  return { header: `00-${traceId}-${spanId}-01`, traceId, spanId };
}
