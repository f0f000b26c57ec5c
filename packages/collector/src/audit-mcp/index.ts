/**
 * The audit MCP server at the collector's `/mcp`: the audit queries as MCP
 * tools, built the way a user builds an instrumented server — the v2 SDK's
 * McpServer behind mcptrail's fastify plugin (`createMcpHandler` underneath,
 * so MCP 2026-07-28 and the legacy revisions) — so every audit call is
 * authenticated, scoped, limited, traced and recorded like any other, into
 * the collector's own store (self-audit.ts).
 *
 * The read tokens are the bearer tokens (authenticator.ts); with none
 * configured the route answers loopback clients only (open-mode.ts).
 */
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { mcptrailFastify } from 'mcptrail/fastify';
import { MemoryConcurrencyCap } from 'mcptrail/runtime';
import type { Logger } from 'mcptrail/record';
import type { AlertsSource } from '../alerts/api.js';
import type { BatchWriter } from '../collector/writer.js';
import type { ReadTokens } from '../collector/read-scope.js';
import type { Store } from '../store/index.js';
import { ALL_TENANTS_SCOPE, AUDIT_READ_SCOPE, readTokenAuthenticator } from './authenticator.js';
import { auditInstrumentation } from './instrumentation.js';
import { loopbackOnly } from './open-mode.js';
import { createSelfAudit } from './self-audit.js';
import { AUDIT_SERVICE, AUDIT_TOOL_POLICIES, buildAuditServer } from './tools.js';

export { AUDIT_SERVICE, AUDIT_TOOLS } from './tools.js';
export { AUDIT_READ_SCOPE, ALL_TENANTS_SCOPE } from './authenticator.js';

export const AUDIT_MCP_PATH = '/mcp';

export interface AuditMcpOptions {
  /** Durable spool of the audit server's own records (`mcptrail up`: `<data dir>/audit-mcp-spool`); default in memory. */
  spoolDir?: string;
}

export interface AuditMcpDeps {
  store: Store;
  writer: BatchWriter;
  tokens: ReadTokens;
  alerts?: AlertsSource;
  logger?: FastifyBaseLogger;
}

export interface AuditMcp {
  /** Stores the audit calls' records and spans pending now; call before the writer stops taking rows. */
  drain(): Promise<void>;
  close(): Promise<void>;
}

/** Audit queries one tenant may run at once: a reader cannot monopolise the store. */
const IN_FLIGHT_PER_TENANT = 4;

export async function mountAuditMcp(app: FastifyInstance, deps: AuditMcpDeps, opts: AuditMcpOptions = {}): Promise<AuditMcp> {
  const self = createSelfAudit({ store: deps.store, writer: deps.writer, service: AUDIT_SERVICE, spoolDir: opts.spoolDir, logger: deps.logger });
  const instrumentation = auditInstrumentation(
    {
      service: AUDIT_SERVICE,
      sink: self.sink,
      tools: AUDIT_TOOL_POLICIES,
      concurrency: new MemoryConcurrencyCap(IN_FLIGHT_PER_TENANT),
      // Calls without a tenant are the operator's: recorded with none (never MCPTRAIL_TENANT's).
      tenant: '',
      telemetry: false,
      // The edge's refusal spans come from the global tracer under this scope name (the pipeline's from ours).
      tracerName: AUDIT_SERVICE,
      // The collector's process owns its signals (cli/index.ts).
      handleSignals: false,
      logger: deps.logger as Logger | undefined,
    },
    self.tracer,
  );
  await app.register(async (scope) => {
    // Hooks of this context run before the plugin's own route hooks.
    if (deps.tokens.open) scope.addHook('onRequest', loopbackOnly);
    await scope.register(mcptrailFastify, {
      path: AUDIT_MCP_PATH,
      sdk: 'v2',
      serverFactory: () => buildAuditServer({ store: deps.store, alerts: deps.alerts }),
      authenticator: readTokenAuthenticator(deps.tokens),
      instrumentation,
      scopesSupported: [AUDIT_READ_SCOPE, ALL_TENANTS_SCOPE],
      bodyLimit: 64 * 1024,
    });
  });
  return { drain: self.drain, close: self.close };
}
