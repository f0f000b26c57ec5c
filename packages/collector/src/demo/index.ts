/**
 * The demo stack: upstream CRM ◂ instrumented CRM MCP server ◂ synthetic
 * agents, with spans and records flowing to a collector. Writes
 * `<dataDir>/demo.json` so a person or a test can call the server as an agent.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createServer, type AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { randomBytes } from 'node:crypto';
import { createAuthenticator } from 'mcptrail/auth';
import { limitsEventLogger } from 'mcptrail/instrument';
import { createLogger, createRecordSink, createShipper, errorFields, type Logger, type RecordSink } from 'mcptrail/record';
import {
  closeRedis,
  createRedis,
  MemoryConcurrencyCap,
  memoryCredentialStore,
  fileIdempotencyStore,
  RateLimits,
  redisCredentialStore,
  RedisConcurrencyCap,
  redisIdempotencyStore,
  redisReady,
  type ConcurrencyCap,
  type CredentialStore,
  type CredentialEvent,
  type IdempotencyStore,
  type LimitsStore,
  type Redis,
} from 'mcptrail/runtime';
import { startTelemetry } from 'mcptrail/telemetry';
import { createCrmMcpApp, crmToolNames, CRM_SERVICE, CRM_TOOL_POLICIES } from './crm-server.js';
import { startUpstreamCrm, type UpstreamCrm } from './upstream-crm.js';
import { startAgentFleet, type AgentFleet } from './agents.js';
import { DEMO_AGENTS, DEMO_ISSUER, DEMO_TENANTS, mintAgentToken, newDemoSecret, NOISY_AGENT } from './tenants.js';
import { oauthRefresh } from './oauth-refresh.js';
import { DEFAULT_INCIDENT_CYCLE_MS, DEFAULT_INCIDENTS, scheduleIncidents, type IncidentSchedule, type IncidentStep } from './incidents.js';

export { startUpstreamCrm } from './upstream-crm.js';
export { callToolTraced } from './agents.js';
export { DEMO_AGENTS } from './tenants.js';
export { oauthRefresh } from './oauth-refresh.js';
export { DEFAULT_INCIDENTS, DEFAULT_INCIDENT_CYCLE_MS, scheduleIncidents } from './incidents.js';
export type { IncidentStep, IncidentKind } from './incidents.js';

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
  /**
   * The incident timeline (slow upstream for globex, revoked OAuth grant for
   * initech, noisy importer for acme). `true` = DEFAULT_INCIDENTS repeating
   * every 6 min; `false` = none (deterministic tests). Default: on, unless
   * MCPTRAIL_DEMO_INCIDENTS=0.
   */
  incidents?: boolean | { steps: readonly IncidentStep[]; repeatEveryMs?: number };
  /** Shared state (limits, idempotency, credentials) in Redis; default MCPTRAIL_REDIS_URL, else in memory. */
  redisUrl?: string;
  /** Lifetime of the upstream CRM's access tokens (default 90 s, so refreshes happen). */
  accessTokenTtlMs?: number;
  /** Budgets and the concurrency cap (default on). */
  limits?: boolean;
}

export interface DemoFile {
  mcpUrl: string;
  collectorUrl: string;
  upstreamUrl: string;
  agents: Array<{ agentId: string; tenantId: string; token: string; scopes: string[] }>;
}

export interface Demo {
  file: DemoFile;
  /** The tools the MCP server lists (deprecated ones marked), for the banner. */
  tools: string[];
  filePath: string;
  upstream: UpstreamCrm;
  fleet?: AgentFleet;
  credentials: CredentialStore;
  close(): Promise<void>;
}

export async function startDemo(opts: DemoOptions): Promise<Demo> {
  const host = opts.host ?? '127.0.0.1';
  await mkdir(opts.dataDir, { recursive: true });

  const upstream = await startUpstreamCrm(
    { tenants: DEMO_TENANTS, accessTokenTtlMs: opts.accessTokenTtlMs },
    { host, port: opts.upstreamPort ?? 3100 },
  );

  const logger = createLogger({ destination: opts.recordLog ?? join(opts.dataDir, 'mcp-server.log') });
  // NodeSDK (a dependency of this package): spans through a disk spool like the records, exported every
  // second (`mcptrail trace` right after a call finds them), metrics every 15 s.
  const telemetry = startTelemetry({
    serviceName: CRM_SERVICE,
    collectorUrl: opts.collectorUrl,
    ingestToken: opts.ingestToken,
    spoolDir: join(opts.dataDir, 'spool', 'spans'),
    spanBatchDelayMs: 1_000,
    metricExportIntervalMs: 15_000,
    logger,
  });
  // Records are spooled to disk before the call returns and shipped from there: a collector outage delays them, never loses them.
  const shipper = createShipper({ url: `${opts.collectorUrl}/v1/records`, token: opts.ingestToken, spoolDir: join(opts.dataDir, 'spool'), logger });
  const sink: RecordSink = createRecordSink({ logger, shipper });

  const state = await sharedState(opts.redisUrl ?? process.env.MCPTRAIL_REDIS_URL, logger, upstream, opts.limits ?? true, opts.dataDir);
  // Each tenant's integration starts connected: a refresh token, no access token yet.
  for (const tenant of DEMO_TENANTS) await connectTenant(state.credentials, upstream, tenant);

  const secret = newDemoSecret();
  // The resource URL is the tokens' audience, so the port must be known
  // before the server is built: port 0 (tests) resolves to a free port first.
  let app: FastifyInstance | undefined;
  const mcpPort = opts.mcpPort === 0 ? await freePort(host) : (opts.mcpPort ?? 3000);
  const resourceUrl = `http://${host}:${mcpPort}/mcp`;
  const authenticator = createAuthenticator({ jwt: { secret, issuer: DEMO_ISSUER, audience: resourceUrl } });
  app = await createCrmMcpApp({ upstreamUrl: upstream.url, authenticator, sink, resourceUrl, logger, ...state });
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

  const incidents = incidentPlan(opts.incidents);
  const schedule: IncidentSchedule | undefined = incidents
    ? scheduleIncidents(
        incidents.steps,
        incidentHooks({
          upstream,
          credentials: state.credentials,
          logger,
          noisyFleet: async () =>
            startAgentFleet({
              mcpUrl,
              collectorUrl: opts.collectorUrl,
              ingestToken: opts.ingestToken,
              agents: [{ ...NOISY_AGENT, token: await mintAgentToken(NOISY_AGENT, secret, resourceUrl) }],
              ratePerAgent: 20,
              loopsPerAgent: 8,
            }),
        }),
        incidents.repeatEveryMs,
      )
    : undefined;

  const tools = (await crmToolNames()).map((name) => (CRM_TOOL_POLICIES[name]?.deprecated ? `${name} (deprecated)` : name));
  return {
    file,
    tools,
    filePath,
    upstream,
    fleet,
    credentials: state.credentials,
    async close() {
      await schedule?.stop();
      await fleet?.stop();
      await app?.close();
      await sink.close();
      await telemetry.shutdown();
      await upstream.close();
      await state.close();
    },
  };
}

function incidentPlan(option: DemoOptions['incidents']): { steps: readonly IncidentStep[]; repeatEveryMs?: number } | undefined {
  const on = option ?? process.env.MCPTRAIL_DEMO_INCIDENTS !== '0';
  if (on === false) return undefined;
  if (on === true) return { steps: DEFAULT_INCIDENTS, repeatEveryMs: DEFAULT_INCIDENT_CYCLE_MS };
  return on;
}

async function connectTenant(credentials: CredentialStore, upstream: UpstreamCrm, tenant: string): Promise<void> {
  await credentials.put(tenant, { accessToken: '', refreshToken: upstream.grant(tenant), expiresAt: 0 });
}

interface IncidentDeps {
  upstream: UpstreamCrm;
  credentials: CredentialStore;
  logger: Logger;
  noisyFleet: () => Promise<AgentFleet>;
}

function incidentHooks(deps: IncidentDeps) {
  let noisy: AgentFleet | undefined;
  return {
    async start(step: IncidentStep) {
      deps.logger.warn({ incident: step.kind, tenant_id: step.tenantId }, 'demo_incident_started');
      switch (step.kind) {
        case 'slow_upstream':
          // Past every tool budget (5–10 s): those calls end deadline_exceeded.
          deps.upstream.setTenantFault(step.tenantId, { extraLatencyMs: 12_000, slowShare: step.share });
          break;
        case 'revoked_token':
          // The customer revoked the app: 401s, then refreshes fail with invalid_grant.
          deps.upstream.revoke(step.tenantId);
          break;
        case 'noisy_tenant':
          deps.upstream.setTenantFault(step.tenantId, { failureRate: 0.25 });
          noisy = await deps.noisyFleet();
          break;
      }
    },
    async end(step: IncidentStep) {
      switch (step.kind) {
        case 'slow_upstream':
          deps.upstream.setTenantFault(step.tenantId, undefined);
          break;
        case 'revoked_token':
          // An operator reconnects the integration.
          await connectTenant(deps.credentials, deps.upstream, step.tenantId);
          break;
        case 'noisy_tenant':
          await noisy?.stop();
          noisy = undefined;
          deps.upstream.setTenantFault(step.tenantId, undefined);
          break;
      }
      deps.logger.info({ incident: step.kind, tenant_id: step.tenantId }, 'demo_incident_ended');
    },
    onError(step: IncidentStep, err: unknown) {
      deps.logger.error({ incident: step.kind, ...errorFields(err) }, 'demo_incident_error');
    },
  };
}

interface SharedState {
  credentials: CredentialStore;
  idempotency: IdempotencyStore;
  edgeLimits?: RateLimits;
  limits?: RateLimits;
  concurrency?: ConcurrencyCap;
  close(): Promise<void>;
}

/**
 * Limits, idempotency and credentials: in Redis when a URL is given and
 * reachable (several server instances then share them), else in memory —
 * except idempotency keys, which the embedded default keeps in a journal
 * under the data dir, so a restart neither forgets them nor loses intents.
 */
async function sharedState(
  redisUrl: string | undefined,
  logger: Logger,
  upstream: UpstreamCrm,
  withLimits: boolean,
  dataDir: string,
): Promise<SharedState> {
  const onLimitsEvent = limitsEventLogger(logger);
  const onCredentialEvent = (e: CredentialEvent) =>
    e.type === 'refresh'
      ? logger.info({ tenant_id: e.tenantId }, 'upstream_credentials_refreshed')
      : logger.warn({ tenant_id: e.tenantId, reason: e.reason }, 'upstream_credentials_refresh_failed');
  // 90 s access tokens refreshed 15 s before expiry.
  const credentialOptions = { refresh: oauthRefresh({ tokenUrl: `${upstream.url}/oauth/token` }), skewMs: 15_000, onEvent: onCredentialEvent };

  let redis: Redis | undefined;
  if (redisUrl) {
    redis = createRedis(redisUrl, { onError: (e) => logger.debug({ error_class: e.name, error_code: e.code }, 'redis_error') });
    try {
      await redisReady(redis);
    } catch (err) {
      logger.warn(errorFields(err), 'redis_unreachable_using_memory');
      await closeRedis(redis);
      redis = undefined;
    }
  }
  const store: LimitsStore = redis ? { kind: 'redis', redis, keyPrefix: 'mcptrail:demo:' } : { kind: 'memory' };
  const limits = withLimits
    ? {
        // Edge: each agent's own budget (6 calls/s on average).
        edgeLimits: new RateLimits({ agent: { points: 60, perSeconds: 10 } }, { store, onEvent: onLimitsEvent }),
        // Pipeline: refunds are scarce per tenant, and each tenant has an overall budget.
        limits: new RateLimits(
          { tool: { 'crm.issue_refund': { points: 30, perSeconds: 60 } }, tenant: { points: 200, perSeconds: 10 } },
          { store, onEvent: onLimitsEvent },
        ),
        concurrency: redis
          ? new RedisConcurrencyCap({ redis, maxInFlight: 12, keyPrefix: 'mcptrail:demo:', onEvent: onLimitsEvent })
          : new MemoryConcurrencyCap(12),
      }
    : {};
  // Pending entries outlive the longest tool budget (10 s).
  const idempotencyOptions = { pendingTtlMs: 60_000, keyPrefix: 'mcptrail:demo:' };
  const idempotency = redis
    ? redisIdempotencyStore(redis, idempotencyOptions)
    : fileIdempotencyStore({ ...idempotencyOptions, dir: join(dataDir, 'idempotency') });
  return {
    ...limits,
    credentials: redis
      ? redisCredentialStore(redis, { ...credentialOptions, key: process.env.MCPTRAIL_CREDENTIALS_KEY ?? randomBytes(32), keyPrefix: 'mcptrail:demo:' })
      : memoryCredentialStore(credentialOptions),
    idempotency,
    close: async () => {
      await idempotency.close();
      if (redis) await closeRedis(redis);
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
