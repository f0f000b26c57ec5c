/**
 * The demo CRM MCP server: tools over a customer CRM, written the way a
 * server author would write them, served statelessly over Streamable HTTP by
 * mcptrail's fastify host (which instruments every server it builds, with
 * the tool policies given once) with the production options on:
 * scopes at the edge, budgets (agent at the edge; tool, tenant and
 * concurrency in the pipeline), idempotent writes, the tenants' own upstream
 * OAuth tokens, retries and breakers, and output allow-lists.
 *
 * It is a v2 SDK server (`@modelcontextprotocol/server`), so one endpoint
 * serves MCP 2026-07-28 (stateless, per-request `_meta`, multi-round-trip
 * `input_required`, the tasks extension) and the legacy revisions (the SDK's
 * stateless fallback) from the same tool definitions.
 */
import { McpServer, InMemoryTransport, acceptedContent, inputRequired } from '@modelcontextprotocol/server';
import { Client } from '@modelcontextprotocol/client';
import { z } from 'zod';
import type { FastifyInstance } from 'fastify';
import { registerJobTool, jobToolPolicies, type ToolPolicy } from 'mcptrail/instrument';
import { createMcpHttpApp } from 'mcptrail/fastify';
import {
  CircuitBreakers,
  createUpstreamClient,
  Jobs,
  UpstreamError,
  type ConcurrencyCap,
  type CredentialStore,
  type IdempotencyStore,
  type RateLimits,
} from 'mcptrail/runtime';
import type { Logger, RecordSink } from 'mcptrail/record';
import type { Authenticator } from 'mcptrail/auth';

export const CRM_SERVICE = 'crm-mcp';

/** Per-tool policy: scope, class, budget, version, redaction and what the agent may see of results. */
export const CRM_TOOL_POLICIES: Record<string, ToolPolicy> = {
  'crm.search_contacts': {
    scope: 'contacts:read',
    kind: 'read',
    budgetMs: 5_000,
    version: '1',
    redact: { allow: ['limit'] },
    output: { allow: ['contacts[].id', 'contacts[].name', 'contacts[].email', 'contacts[].company'] },
  },
  'crm.update_deal': {
    scope: 'deals:write',
    kind: 'write',
    budgetMs: 10_000,
    version: '2',
    // The CRM dedupes deal updates by Idempotency-Key: after an interruption a retry may run again.
    upstreamDedupes: true,
    redact: { allow: ['deal_id', 'stage'] },
    output: { allow: ['deal.id', 'deal.stage', 'deal.amount', 'deal.version'] },
  },
  'crm.issue_refund': {
    scope: 'refunds:write',
    kind: 'write',
    budgetMs: 10_000,
    version: '2',
    // `confirm` is the answer to the confirmation a large refund asks for (recorded with the round).
    redact: { allow: ['deal_id', 'confirm'], drop: ['note'] },
    // Money moves: the agent must say why, or the call is refused (and recorded) with the instruction to.
    intent: 'required',
    output: { allow: ['refund.id', 'refund.deal_id', 'refund.amount', 'refund.status'] },
  },
  // v1 of the search, kept through its deprecation window.
  'crm.find_contacts': { scope: 'contacts:read', kind: 'read', budgetMs: 5_000, version: '0', deprecated: true, output: { allow: ['contacts[].id', 'contacts[].name'] } },
  ...jobToolPolicies('pipeline_report', { scope: 'deals:write', version: '1' }),
};

/** What every CRM tool's own policy starts from. */
export const CRM_DEFAULT_POLICY: ToolPolicy = { intent: 'optional' };

export interface CrmServerOptions {
  upstreamUrl: string;
  /** The tenants' upstream OAuth tokens (the server's own credentials, never the agent's token). */
  credentials: CredentialStore;
  authenticator: Authenticator;
  sink: RecordSink;
  resourceUrl: string;
  /** Checked at the HTTP edge (429 + Retry-After): the per-agent budget. */
  edgeLimits?: RateLimits;
  /** Checked in the pipeline (a rate_limited tool result): per tool and per tenant. */
  limits?: RateLimits;
  concurrency?: ConcurrencyCap;
  idempotency?: IdempotencyStore;
  logger?: Logger;
}

/** Tool results are data for the agent; errors the agent can act on are isError results. */
const json = (value: unknown) => ({ content: [{ type: 'text' as const, text: JSON.stringify(value) }] });
const toolError = (message: string) => ({ content: [{ type: 'text' as const, text: message }], isError: true });

/** Refunds above this ask the agent's user for a confirmation first (elicitation). */
export const REFUND_CONFIRMATION_THRESHOLD = 1_000;
const RefundConfirmation = z.object({ confirm: z.boolean().describe('Issue this refund') });

type Crm = ReturnType<typeof createUpstreamClient>;

function buildServer(crm: Crm, jobs: Jobs): McpServer {
  const server = new McpServer({ name: CRM_SERVICE, version: '1.0.0' });

  const searchContacts = async ({ query, limit }: { query: string; limit?: number }) => {
    const res = await crm.request({ method: 'GET', path: '/v1/contacts', query: { q: query, limit: String(limit ?? 10) } });
    return json(res.body);
  };
  const searchSchema = z.object({ query: z.string().min(1).max(200), limit: z.number().int().min(1).max(50).optional() });

  server.registerTool(
    'crm.search_contacts',
    { title: 'Search contacts', description: 'Find contacts in the CRM by name or email fragment.', inputSchema: searchSchema, annotations: { readOnlyHint: true } },
    searchContacts,
  );

  server.registerTool(
    'crm.find_contacts',
    { title: 'Find contacts (deprecated)', description: 'Deprecated: use crm.search_contacts.', inputSchema: searchSchema, annotations: { readOnlyHint: true } },
    searchContacts,
  );

  server.registerTool(
    'crm.update_deal',
    {
      title: 'Update a deal',
      description: 'Move a deal to another stage or change its amount. Safe to repeat: the same idempotency key (or the same arguments) returns the first result.',
      inputSchema: z.object({
        deal_id: z.string().min(1).max(64),
        stage: z.enum(['qualified', 'proposal', 'negotiation', 'won', 'lost']).optional(),
        amount: z.number().positive().optional(),
        idempotency_key: z.string().max(128).optional(),
      }),
      annotations: { idempotentHint: true },
    },
    async ({ deal_id, stage, amount }) => {
      try {
        // The pipeline's idempotency key travels as Idempotency-Key; the CRM dedupes deal updates by it.
        // A path template: spans record /v1/deals/{id}, never the id itself.
        const res = await crm.request({ method: 'PATCH', path: '/v1/deals/{id}', params: { id: deal_id }, body: { stage, amount } });
        return json(res.body);
      } catch (err) {
        // The message names no argument: results are stored for replays.
        if (err instanceof UpstreamError && err.status === 404) return toolError('That deal does not exist.');
        if (err instanceof UpstreamError && err.status === 422) return toolError('Nothing to update: give a stage or an amount.');
        throw err;
      }
    },
  );

  server.registerTool(
    'crm.issue_refund',
    {
      title: 'Issue a refund',
      description:
        'Issue a refund against a won deal. Repeating the same request (same key or arguments) within 24 h returns the first refund instead of issuing another; ' +
        'if the first was interrupted (interrupted: true), it is not issued again: check the refunds before retrying with a new key. ' +
        `Refunds above ${REFUND_CONFIRMATION_THRESHOLD} ask the user to confirm first.`,
      inputSchema: z.object({ deal_id: z.string().min(1).max(64), amount: z.number().positive().max(100_000), note: z.string().max(500).optional() }),
      annotations: { destructiveHint: true, idempotentHint: false },
    },
    async ({ deal_id, amount }, ctx) => {
      if (amount > REFUND_CONFIRMATION_THRESHOLD) {
        // What was asked is in the state (mcptrail seals it): the answer counts only for this deal and amount,
        // so a retry cannot confirm one refund and carry another.
        const asked = JSON.stringify({ deal_id, amount });
        if (ctx.mcpReq.requestState() !== asked) {
          return inputRequired({
            inputRequests: {
              confirm: inputRequired.elicit({ message: `Issue a refund of ${amount} on deal ${deal_id}?`, requestedSchema: RefundConfirmation }),
            },
            requestState: asked,
          });
        }
        if (acceptedContent(ctx.mcpReq.inputResponses, 'confirm', RefundConfirmation)?.confirm !== true) {
          return toolError('The refund was not confirmed, so nothing was issued.');
        }
      }
      try {
        // The CRM does not dedupe refunds, so this request is never retried.
        const res = await crm.request({ method: 'POST', path: '/v1/refunds', body: { deal_id, amount }, honoursIdempotencyKey: false });
        return json(res.body);
      } catch (err) {
        if (err instanceof UpstreamError && err.status === 422) return toolError('The refund was refused: check the deal and the amount.');
        throw err;
      }
    },
  );

  // A slow report (> 30 s in real life): a job, polled with get_job_status.
  registerJobTool(server, jobs, {
    name: 'pipeline_report',
    title: 'Pipeline report',
    description: 'Summarise deals by stage.',
    inputSchema: z.object({ deals: z.number().int().min(1).max(50).optional() }),
    budgetMs: 5 * 60_000,
    run: async ({ deals }) => {
      const count = deals ?? 10;
      const byStage: Record<string, number> = {};
      for (let i = 1; i <= count; i++) {
        const res = await crm.request<{ deal?: { stage?: string } }>({ method: 'GET', path: '/v1/deals/{id}', params: { id: `D-${i}` } });
        const stage = res.body.deal?.stage ?? 'unknown';
        byStage[stage] = (byStage[stage] ?? 0) + 1;
      }
      return { deals: count, by_stage: byStage };
    },
  });

  return server;
}

/** The tools the demo server lists, as an agent's tools/list sees them (the banner names these). */
export async function crmToolNames(): Promise<string[]> {
  // Nothing is called: the upstream client and jobs only have to exist.
  const server = buildServer(createUpstreamClient({ name: 'crm', baseUrl: 'http://127.0.0.1:9' }), new Jobs());
  const client = new Client({ name: 'mcptrail-banner', version: '1.0.0' });
  const [a, b] = InMemoryTransport.createLinkedPair();
  await server.connect(b);
  await client.connect(a);
  try {
    const { tools } = await client.listTools();
    return tools.map((t) => t.name);
  } finally {
    await client.close();
    await server.close();
  }
}

export async function createCrmMcpApp(opts: CrmServerOptions): Promise<FastifyInstance> {
  // Stateless Streamable HTTP: a fresh McpServer per request; the upstream
  // client, breakers, jobs and stores are shared by all of them.
  const crm = createUpstreamClient({
    name: 'crm',
    baseUrl: opts.upstreamUrl,
    credentials: opts.credentials,
    honoursIdempotencyKey: true,
    retry: { maxAttempts: 3 },
    breakers: new CircuitBreakers({ threshold: 5, halfOpenAfterMs: 20_000 }),
  });
  const jobs = new Jobs({ maxRuntimeMs: 5 * 60_000 });
  return createMcpHttpApp({
    serverFactory: () => buildServer(crm, jobs),
    authenticator: opts.authenticator,
    sink: opts.sink,
    service: CRM_SERVICE,
    path: '/mcp',
    resourceUrl: opts.resourceUrl,
    tools: CRM_TOOL_POLICIES,
    // Every other tool asks for the agent's intent and records it when given.
    defaults: CRM_DEFAULT_POLICY,
    limits: opts.limits,
    concurrency: opts.concurrency,
    idempotency: opts.idempotency,
    edgeLimits: opts.edgeLimits,
    scopesSupported: ['contacts:read', 'deals:write', 'refunds:write'],
    logger: opts.logger,
  });
}
