/**
 * An instrumented MCP server with the production options wired (limits at the
 * edge and in the pipeline, concurrency cap, idempotency, credentials,
 * retries, breakers, output allow-lists, a job tool), served over real HTTP.
 * Its pino output is captured in memory so tests can search the logs.
 */
import { Writable } from 'node:stream';
import type { AddressInfo } from 'node:net';
import { McpServer as McpServerV1 } from '@modelcontextprotocol/sdk/server/mcp.js';
import { McpServer as McpServerV2 } from '@modelcontextprotocol/server';
import { z } from 'zod';
import type { Authenticator } from '../../packages/mcptrail/src/auth/index.js';
import { oauthRefresh } from '../../packages/collector/src/demo/oauth-refresh.js';
import { createMcpHttpApp } from '../../packages/mcptrail/src/instrument/fastify.js';
import {
  instrument,
  jobToolPolicies,
  registerJobTool,
  type AnyMcpServer,
  type ToolPolicy,
} from '../../packages/mcptrail/src/instrument/index.js';
import { createLogger, createRecordSink, type Logger, type RecordSink } from '../../packages/mcptrail/src/record/index.js';
import {
  CircuitBreakers,
  createUpstreamClient,
  Jobs,
  type ConcurrencyCap,
  type CredentialStore,
  type IdempotencyStore,
  type RateLimits,
  type RetryOptions,
} from '../../packages/mcptrail/src/runtime/index.js';
import type { SdkLine } from './mcp-harness.js';
import { memorySink, type MemorySink } from './mcp-harness.js';

export const PIPELINE_POLICIES: Record<string, ToolPolicy> = {
  'contacts.search': { scope: 'contacts:read', kind: 'read', budgetMs: 5_000, version: '2', output: { allow: ['contacts[].id', 'contacts[].name'] } },
  'contacts.leaky': { scope: 'contacts:read', kind: 'read', budgetMs: 5_000, version: '1' },
  'writes.create': { scope: 'writes:write', kind: 'write', budgetMs: 10_000, version: '1', output: { allow: ['write.id', 'write.tenant'] } },
  'flaky.read': { scope: 'contacts:read', kind: 'read', budgetMs: 5_000, version: '1' },
  'throttled.read': { scope: 'contacts:read', kind: 'read', budgetMs: 2_600, version: '1' },
  'slow.op': { scope: 'contacts:read', kind: 'read', budgetMs: 5_000, version: '1' },
  'hang.op': { scope: 'contacts:read', kind: 'read', budgetMs: 300, version: '1' },
  'old.search': { scope: 'contacts:read', kind: 'read', version: '1', deprecated: true },
  ...jobToolPolicies('export', { scope: 'contacts:read', version: '1' }),
};

export interface Captured {
  logger: Logger;
  /** Every log line written so far. */
  text(): string;
}

export function captureLogs(): Captured {
  let buf = '';
  const stream = new Writable({
    write(chunk, _enc, cb) {
      buf += chunk.toString();
      cb();
    },
  });
  return { logger: createLogger({ destination: stream as never, level: 'debug' }), text: () => buf };
}

export interface InstanceDeps {
  line: SdkLine;
  authenticator: Authenticator;
  upstreamUrl: string;
  credentials: CredentialStore;
  edgeLimits?: RateLimits;
  limits?: RateLimits;
  concurrency?: ConcurrencyCap;
  idempotency?: IdempotencyStore;
  breakers?: CircuitBreakers;
  retry?: RetryOptions;
  /** Enable the 403 scope check at the edge (default true). */
  edgeScopes?: boolean;
  jobs?: Jobs;
}

export interface Instance {
  url: string;
  sink: MemorySink;
  logs: Captured;
  close(): Promise<void>;
}

const json = (value: unknown) => ({ content: [{ type: 'text' as const, text: JSON.stringify(value) }], structuredContent: value as Record<string, unknown> });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One MCP server instance (stateless HTTP); several may share the same Redis-backed deps. */
export async function startInstance(deps: InstanceDeps): Promise<Instance> {
  const records = memorySink();
  const logs = captureLogs();
  // Records go to the captured log too, as in production (pino line + shipper).
  const logSink = createRecordSink({ logger: logs.logger });
  const sink: RecordSink & { records: MemorySink['records'] } = {
    records: records.records,
    emit(r) {
      records.emit(r);
      logSink.emit(r);
    },
    flush: async () => {},
    close: async () => {},
  };
  const crm = createUpstreamClient({
    name: 'crm',
    baseUrl: deps.upstreamUrl,
    credentials: deps.credentials,
    honoursIdempotencyKey: true,
    retry: deps.retry ?? { maxAttempts: 4, baseDelayMs: 20, maxDelayMs: 100 },
    breakers: deps.breakers ?? new CircuitBreakers({ threshold: 3, halfOpenAfterMs: 30_000 }),
  });
  const jobs = deps.jobs ?? new Jobs();

  const build = (): AnyMcpServer => {
    const server = deps.line === 'v1' ? new McpServerV1({ name: 'pipeline-v1', version: '1.0.0' }) : new McpServerV2({ name: 'pipeline-v2', version: '1.0.0' });
    instrument(server, {
      service: `pipeline-${deps.line}`,
      sink,
      tools: PIPELINE_POLICIES,
      limits: deps.limits,
      concurrency: deps.concurrency,
      idempotency: deps.idempotency,
      logger: logs.logger,
    });
    const register = (name: string, shape: Record<string, z.ZodType>, cb: (args: any) => unknown) =>
      (server as McpServerV1).registerTool(name, { inputSchema: z.object(shape) } as never, cb as never);

    register('contacts.search', {}, async () => json((await crm.request({ method: 'GET', path: '/v1/contacts' })).body));
    register('contacts.leaky', {}, async () => json((await crm.request({ method: 'GET', path: '/v1/leaky-error' })).body));
    register('flaky.read', {}, async () => json((await crm.request({ method: 'GET', path: '/v1/flaky' })).body));
    register('throttled.read', {}, async () => json((await crm.request({ method: 'GET', path: '/v1/throttled' })).body));
    register('writes.create', { title: z.string(), idempotency_key: z.string().optional() }, async ({ title }) =>
      json((await crm.request({ method: 'POST', path: '/v1/writes', body: { title } })).body),
    );
    register('slow.op', {}, async () => {
      await sleep(300);
      return json({ done: true });
    });
    register('hang.op', {}, () => new Promise(() => {}));
    register('old.search', {}, async () => json({ contacts: [] }));
    registerJobTool(server, jobs, {
      name: 'export',
      description: 'Export contacts.',
      inputSchema: z.object({ rows: z.number().int().min(1).max(10) }),
      budgetMs: 60_000,
      run: async ({ rows }) => {
        await sleep(200);
        const res = await crm.request<{ contacts: { id: string }[] }>({ method: 'GET', path: '/v1/contacts' });
        return { rows, ids: res.body.contacts.slice(0, rows).map((c) => c.id) };
      },
    });
    return server;
  };

  const app = await createMcpHttpApp({
    serverFactory: build,
    authenticator: deps.authenticator,
    sink,
    service: `pipeline-${deps.line}`,
    sdk: deps.line,
    resourceUrl: 'https://mcp.test/mcp',
    tools: deps.edgeScopes === false ? undefined : PIPELINE_POLICIES,
    edgeLimits: deps.edgeLimits,
    logger: logs.logger,
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/mcp`, sink: records, logs, close: () => app.close() };
}

export { oauthRefresh };
