/**
 * The demo CRM MCP server: three tools over a customer CRM, written the way a
 * server author would write them, then wrapped by one `instrument()` call and
 * served statelessly over Streamable HTTP.
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import type { FastifyInstance } from 'fastify';
import { instrument, createMcpHttpApp, type ToolPolicy } from '../instrument/index.js';
import { createUpstreamClient, UpstreamError } from '../runtime/index.js';
import type { RecordSink } from '../record/index.js';
import type { Authenticator } from '../auth/index.js';
import { currentCall } from '../context/index.js';

export const CRM_SERVICE = 'crm-mcp';

/** Per-tool policy: the scope each tool needs, its class, budget and redaction rules. */
export const CRM_TOOL_POLICIES: Record<string, ToolPolicy> = {
  'crm.search_contacts': { scope: 'contacts:read', kind: 'read', budgetMs: 5_000, version: '1', redact: { allow: ['limit'] } },
  'crm.update_deal': { scope: 'deals:write', kind: 'write', budgetMs: 10_000, version: '2', redact: { allow: ['deal_id', 'stage'] } },
  'crm.issue_refund': { scope: 'refunds:write', kind: 'write', budgetMs: 10_000, version: '1', redact: { allow: ['deal_id'], drop: ['note'] } },
};

export interface CrmServerOptions {
  upstreamUrl: string;
  /** The server's own upstream credential per tenant (never the agent's token). */
  upstreamKeys: Record<string, string>;
  authenticator: Authenticator;
  sink: RecordSink;
  resourceUrl: string;
}

/** Tool results are data for the agent; errors the agent can act on are isError results. */
const text = (value: unknown) => ({ content: [{ type: 'text' as const, text: JSON.stringify(value) }] });
const toolError = (message: string) => ({ content: [{ type: 'text' as const, text: message }], isError: true });

type Crm = ReturnType<typeof createUpstreamClient>;

function buildServer(opts: CrmServerOptions, crm: Crm): McpServer {
  const auth = (): Record<string, string> => {
    const tenant = currentCall()?.tenantId ?? '';
    const key = opts.upstreamKeys[tenant];
    if (!key) throw new TenantNotProvisionedError();
    return { authorization: `Bearer ${key}` };
  };

  const server = new McpServer({ name: CRM_SERVICE, version: '1.0.0' });

  server.registerTool(
    'crm.search_contacts',
    {
      title: 'Search contacts',
      description: 'Find contacts in the CRM by name or email fragment.',
      inputSchema: { query: z.string().min(1).max(200), limit: z.number().int().min(1).max(50).optional() },
      annotations: { readOnlyHint: true },
    },
    async ({ query, limit }) => {
      const res = await crm.request({ method: 'GET', path: '/v1/contacts', query: { q: query, limit: String(limit ?? 10) }, headers: auth() });
      return text(res.body);
    },
  );

  server.registerTool(
    'crm.update_deal',
    {
      title: 'Update a deal',
      description: 'Move a deal to another stage or change its amount. Safe to repeat with the same idempotency key.',
      inputSchema: {
        deal_id: z.string().min(1).max(64),
        stage: z.enum(['qualified', 'proposal', 'negotiation', 'won', 'lost']).optional(),
        amount: z.number().positive().optional(),
        idempotency_key: z.string().max(128).optional(),
      },
      annotations: { idempotentHint: true },
    },
    async ({ deal_id, stage, amount, idempotency_key }) => {
      try {
        const res = await crm.request({
          method: 'PATCH',
          path: `/v1/deals/${encodeURIComponent(deal_id)}`,
          body: { stage, amount },
          headers: auth(),
          idempotencyKey: idempotency_key ?? currentCall()?.callId,
        });
        return text(res.body);
      } catch (err) {
        if (err instanceof UpstreamError && err.status === 404) return toolError(`Deal ${deal_id} does not exist.`);
        if (err instanceof UpstreamError && err.status === 422) return toolError('Nothing to update: give a stage or an amount.');
        throw err;
      }
    },
  );

  server.registerTool(
    'crm.issue_refund',
    {
      title: 'Issue a refund',
      description: 'Issue a refund against a won deal. Not idempotent: each call issues a new refund.',
      inputSchema: { deal_id: z.string().min(1).max(64), amount: z.number().positive().max(100_000), note: z.string().max(500).optional() },
      annotations: { destructiveHint: true, idempotentHint: false },
    },
    async ({ deal_id, amount }) => {
      try {
        const res = await crm.request({ method: 'POST', path: '/v1/refunds', body: { deal_id, amount }, headers: auth() });
        return text(res.body);
      } catch (err) {
        if (err instanceof UpstreamError && err.status === 422) return toolError('The refund was refused: check the deal and the amount.');
        throw err;
      }
    },
  );

  return server;
}

class TenantNotProvisionedError extends Error {
  readonly code = 'tenant_not_provisioned';
  constructor() {
    super('tenant has no upstream credential');
    this.name = 'TenantNotProvisionedError';
  }
}

export async function createCrmMcpApp(opts: CrmServerOptions): Promise<FastifyInstance> {
  // Stateless Streamable HTTP: a fresh McpServer per request, one upstream client for all.
  const crm = createUpstreamClient({ name: 'crm', baseUrl: opts.upstreamUrl });
  return createMcpHttpApp({
    serverFactory: () => instrument(buildServer(opts, crm), { service: CRM_SERVICE, sink: opts.sink, tools: CRM_TOOL_POLICIES }),
    authenticator: opts.authenticator,
    sink: opts.sink,
    service: CRM_SERVICE,
    path: '/mcp',
    resourceUrl: opts.resourceUrl,
  });
}
