/**
 * Synthetic agents: each one is an official MCP SDK client over Streamable
 * HTTP with its own bearer token, calling the CRM tools at a steady jittered
 * rate. Each call is made under the agent's own span and carries it in
 * `params._meta.traceparent` (SEP-414), so a trace reads agent → MCP server →
 * upstream CRM.
 */
import { randomUUID } from 'node:crypto';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { context, trace, SpanKind, SpanStatusCode, type Tracer } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { DemoAgent } from './tenants.js';
import { withIntent } from './intents.js';

export interface AgentFleetOptions {
  mcpUrl: string;
  collectorUrl: string;
  ingestToken?: string;
  agents: Array<DemoAgent & { token: string }>;
  /** Calls per second per agent (default 0.5). */
  ratePerAgent?: number;
  /** Parallel call loops per agent (default 1); a noisy importer runs several. */
  loopsPerAgent?: number;
  onError?: (agentId: string, err: unknown) => void;
}

export interface AgentFleet {
  /** Calls made so far, per outcome as the agent saw it. */
  stats: { calls: number; ok: number; isError: number; failed: number };
  stop(): Promise<void>;
}

const propagator = new W3CTraceContextPropagator();
const setter = { set: (carrier: Record<string, string>, key: string, value: string) => void (carrier[key] = value) };

const DEALS = Array.from({ length: 50 }, (_, i) => `D-${i + 1}`);
const NAMES = ['ada', 'grace', 'linus', 'margaret', 'ken', 'barbara', 'dennis', 'frances'];
const STAGES = ['qualified', 'proposal', 'negotiation', 'won', 'lost'] as const;

const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)];

function argumentsFor(tool: string): Record<string, unknown> {
  switch (tool) {
    case 'crm.search_contacts':
      return { query: pick(NAMES), limit: 5 };
    case 'crm.update_deal':
      return { deal_id: pick(DEALS), stage: pick(STAGES) };
    default:
      return { deal_id: pick(DEALS), amount: Math.round(Math.random() * 500) + 10, note: 'customer asked for a goodwill refund' };
  }
}

function chooseTool(agent: DemoAgent): string {
  const entries = Object.entries(agent.mix) as Array<[string, number]>;
  let roll = Math.random() * entries.reduce((sum, [, w]) => sum + w, 0);
  for (const [tool, weight] of entries) {
    roll -= weight;
    if (roll <= 0) return tool;
  }
  return entries[0][0];
}

/** One MCP call under an agent span whose context travels in `_meta`. */
export async function callToolTraced(
  client: Client,
  tracer: Tracer,
  agentId: string,
  tool: string,
  args: Record<string, unknown>,
  extraMeta: Record<string, string> = {},
): Promise<{ isError: boolean; traceId: string }> {
  const span = tracer.startSpan(`agent ${tool}`, {
    kind: SpanKind.CLIENT,
    attributes: { 'gen_ai.agent.id': agentId, 'mcp.method.name': 'tools/call', 'gen_ai.tool.name': tool },
  });
  const meta: Record<string, string> = { ...extraMeta };
  propagator.inject(trace.setSpan(context.active(), span), meta, setter);
  try {
    const result = await client.callTool({ name: tool, arguments: args, _meta: meta });
    const isError = result.isError === true;
    if (isError) span.setAttributes({ 'error.type': 'tool_error' }).setStatus({ code: SpanStatusCode.ERROR });
    return { isError, traceId: span.spanContext().traceId };
  } catch (err) {
    span.setAttribute('error.type', err instanceof Error ? err.name : 'Error').setStatus({ code: SpanStatusCode.ERROR });
    throw err;
  } finally {
    span.end();
  }
}

export async function startAgentFleet(opts: AgentFleetOptions): Promise<AgentFleet> {
  const exporter = new OTLPTraceExporter({
    url: `${opts.collectorUrl}/v1/traces`,
    headers: opts.ingestToken ? { authorization: `Bearer ${opts.ingestToken}` } : undefined,
  });
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'demo-agent' }),
    spanProcessors: [new BatchSpanProcessor(exporter, { scheduledDelayMillis: 500 })],
  });
  const tracer = provider.getTracer('mcptrail-demo-agents');
  const stats = { calls: 0, ok: 0, isError: 0, failed: 0 };
  const interval = 1000 / (opts.ratePerAgent ?? 0.5);
  let stopping = false;
  const loops: Promise<void>[] = [];
  const clients: Client[] = [];
  // A retried action repeats its arguments too (else the key is reused for a different request).
  const replayArgs = new Map<string, { args: Record<string, unknown>; meta: Record<string, string> }>();
  const remember = (key: string, call: { args: Record<string, unknown>; meta: Record<string, string> }) => {
    replayArgs.set(key, call);
    if (replayArgs.size > 1_000) replayArgs.delete(replayArgs.keys().next().value!);
  };

  for (const agent of opts.agents) {
    const client = new Client({ name: agent.agentId, version: '1.0.0' });
    const transport = agentTransport(opts.mcpUrl, agent.token);
    await client.connect(transport);
    clients.push(client);
    // Per tool: a "retry" repeats an action of the same tool (a refund never reuses a deal update's key and arguments).
    const lastKeys = new Map<string, string>();
    for (let loop = 0; loop < (opts.loopsPerAgent ?? 1); loop++) loops.push(
      (async () => {
        // Stagger the agents so their calls interleave.
        await sleep(Math.random() * interval);
        while (!stopping) {
          const tool = chooseTool(agent);
          stats.calls++;
          try {
            // Writes carry a key per intended action; now and then an agent "retries" with the last one.
            const meta: Record<string, string> = {};
            if (tool !== 'crm.search_contacts') {
              const last = lastKeys.get(tool);
              const next = last && Math.random() < 0.1 ? last : randomUUID();
              lastKeys.set(tool, next);
              meta['io.mcptrail/idempotency-key'] = next;
            }
            const key = meta['io.mcptrail/idempotency-key'];
            const replay = key ? replayArgs.get(key) : undefined;
            // Each call states why (intents.ts): a retry repeats the first attempt's arguments and intent.
            const call = replay ?? withIntent(agent.agentId, tool, argumentsFor(tool), {});
            if (key) remember(key, call);
            const { isError } = await callToolTraced(client, tracer, agent.agentId, tool, call.args, { ...call.meta, ...meta });
            if (isError) stats.isError++;
            else stats.ok++;
          } catch (err) {
            stats.failed++;
            opts.onError?.(agent.agentId, err);
          }
          await sleep(interval * (0.5 + Math.random()));
        }
      })(),
    );
  }

  return {
    stats,
    async stop() {
      stopping = true;
      await Promise.race([Promise.all(loops), sleep(interval * 2 + 5_000)]);
      await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
      await provider.shutdown().catch(() => undefined);
    },
  };
}

/** An agent's client transport: its bearer token, and one abort signal per request (see perRequestSignal). */
export function agentTransport(mcpUrl: string, token: string): StreamableHTTPClientTransport {
  return new StreamableHTTPClientTransport(new URL(mcpUrl), {
    requestInit: { headers: { authorization: `Bearer ${token}` } },
    fetch: perRequestSignal,
  });
}

/**
 * The SDK's client transport passes one AbortSignal (its own, for close())
 * to every request, and Node's fetch leaves an abort listener on it per
 * request until garbage collection: a busy agent (the noisy importer, 8 loops
 * at 20 calls/s) passed 1,500 and printed MaxListenersExceededWarning by the
 * thousand. Each request gets a signal of its own instead, chained to the
 * shared one only while the request is in flight (the demo server answers
 * JSON, so the response is complete when fetch resolves).
 */
export async function perRequestSignal(url: string | URL, init?: RequestInit): Promise<Response> {
  const shared = init?.signal;
  if (!shared) return fetch(url, init);
  const own = new AbortController();
  const forward = () => own.abort(shared.reason);
  if (shared.aborted) forward();
  else shared.addEventListener('abort', forward, { once: true });
  try {
    return await fetch(url, { ...init, signal: own.signal });
  } finally {
    shared.removeEventListener('abort', forward);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
