/**
 * The collector, laid out like the OpenTelemetry Collector: receivers
 * (OTLP/HTTP traces, NDJSON records) → processors (decode, validate, map to
 * rows) → exporter (the batching writer into the store); plus the audit API
 * and health endpoints.
 */
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import { isStoreError, type Store } from '../store/index.js';
import { auditApi } from './api.js';
import type { AlertsSource } from '../alerts/api.js';
import { bearerGuard } from './auth.js';
import { existingCallIds } from './dedup.js';
import { LedgerAppender } from './ledger.js';
import { evidenceApi } from './evidence-api.js';
import { insightApi } from './insight-api.js';
import fastifyCookie from '@fastify/cookie';
import { CONSOLE_DIST } from '@mcptrail/console';
import { readGuard, readTokenTable, readTokensFromEnv, type ReadScope } from './read-scope.js';
import { panelsApi } from './panels-api.js';
import { consoleSession } from './console-session.js';
import { consoleStatic } from './console-static.js';
import { eventsReceiver } from './receivers/events.js';
import { DEFAULT_BODY_LIMITS, acceptRawBodies, type BodyLimits } from './body.js';
import { HttpError } from './errors.js';
import { otlpReceiver } from './receivers/otlp.js';
import { recordsReceiver } from './receivers/records.js';
import { BatchWriter, DEFAULT_BATCH, type BatchOptions, type WriterStats } from './writer.js';
import { TABLES } from '../store/index.js';
import { mountAuditMcp, type AuditMcp, type AuditMcpOptions } from '../audit-mcp/index.js';

export interface CollectorOptions {
  store: Store;
  /** Required on /v1/* when set. Default: env MCPTRAIL_INGEST_TOKEN. */
  ingestToken?: string;
  /** Operator read token for /api/*. Default: env MCPTRAIL_READ_TOKEN. */
  readToken?: string;
  /**
   * More read tokens, each scoped to a tenant or the operator. Default: env
   * MCPTRAIL_READ_TOKENS (JSON) or MCPTRAIL_READ_TOKENS_FILE. With no read
   * token at all, reads are open.
   */
  readTokens?: Record<string, ReadScope>;
  logger?: FastifyBaseLogger;
  batch?: Partial<BatchOptions>;
  limits?: Partial<BodyLimits>;
  /** The built-in alert evaluator, whose state `GET /api/alerts` serves. */
  alerts?: AlertsSource;
  /** The console at `/` (default: the @mcptrail/console build); `false` serves no pages. */
  console?: { distDir?: string } | false;
  /** The audit MCP server at `/mcp` (default on; its own records in memory until stored unless `spoolDir`); `false`: none. */
  auditMcp?: AuditMcpOptions | false;
}

export interface Collector {
  app: FastifyInstance;
  /** Writes every pending batch now (the audit MCP server's own records and spans included). */
  flush(): Promise<void>;
  /** The writer's counters (pending rows, retries, duplicates skipped, dedup lookup time). */
  stats(): WriterStats;
  /** Stops the HTTP server and flushes pending batches. The store stays open (its owner closes it). */
  close(): Promise<void>;
}

export async function createCollector(opts: CollectorOptions): Promise<Collector> {
  const ingestToken = opts.ingestToken ?? (process.env.MCPTRAIL_INGEST_TOKEN || undefined);
  const readToken = opts.readToken ?? (process.env.MCPTRAIL_READ_TOKEN || undefined);
  const limits: BodyLimits = { ...DEFAULT_BODY_LIMITS, ...opts.limits };
  const app: FastifyInstance = opts.logger ? Fastify({ loggerInstance: opts.logger }) : Fastify({ logger: false });
  const readTokens = opts.readTokens ?? readTokensFromEnv();
  const ledger = new LedgerAppender(opts.store);
  const writer = new BatchWriter(opts.store, { ...DEFAULT_BATCH, ...opts.batch }, app.log, { [TABLES.toolCalls]: existingCallIds }, { [TABLES.toolCalls]: ledger.afterInsert });

  app.setErrorHandler((err: FastifyError, req, reply) => {
    if (err instanceof HttpError) return reply.code(err.statusCode).headers(err.headers).send({ error: err.message });
    if (isStoreError(err)) {
      req.log.error(err.toLog(), 'store query failed');
      return reply.code(503).header('retry-after', '5').send({ error: 'store unavailable' });
    }
    const status = err.statusCode ?? 500;
    if (status < 500) return reply.code(status).send({ error: err.message });
    req.log.error({ errClass: err.name, code: err.code }, 'request failed');
    return reply.code(500).send({ error: 'internal error' });
  });

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    const ok = await opts.store.ping().catch(() => false);
    return reply.code(ok ? 200 : 503).send({ status: ok ? 'ready' : 'store unavailable' });
  });

  await app.register(async (ingest) => {
    if (ingestToken) ingest.addHook('onRequest', bearerGuard(ingestToken));
    acceptRawBodies(ingest, limits);
    await ingest.register(otlpReceiver(writer, limits));
    await ingest.register(recordsReceiver(writer, limits));
    await ingest.register(eventsReceiver(opts.store, limits));
  });

  // Cookies only carry the console's session (read-scope.ts); nothing else reads them.
  await app.register(fastifyCookie);
  const tokens = readTokenTable(readToken, readTokens);
  await app.register(async (api) => {
    api.addHook('onRequest', readGuard(tokens));
    await api.register(auditApi(opts.store, opts.alerts));
    await api.register(evidenceApi(opts.store, { settle: () => writer.flush() }));
    await api.register(insightApi(opts.store, opts.alerts));
    await api.register(panelsApi(opts.store));
  });
  await app.register(consoleSession(tokens));
  if (opts.console !== false) await app.register(consoleStatic(opts.console?.distDir ?? CONSOLE_DIST));
  const auditMcp: AuditMcp | undefined =
    opts.auditMcp === false ? undefined : await mountAuditMcp(app, { store: opts.store, writer, tokens, alerts: opts.alerts, logger: opts.logger }, opts.auditMcp);

  // Shutdown: the audit server's own records and spans go in first; then refuse new rows (503 +
  // Retry-After) and send every pending batch now, so requests in flight (which fastify waits for)
  // are answered without waiting for a batch timer; then a last flush. (An audit call still running
  // here keeps its record in the audit server's spool, when it has one, for the next start.)
  app.addHook('preClose', async () => {
    await auditMcp?.drain();
    await writer.close();
  });
  app.addHook('onClose', async () => {
    await writer.flush();
    await auditMcp?.close();
  });

  return {
    app,
    // The audit MCP server's own records and spans first: they enter the writer there.
    flush: async () => {
      await auditMcp?.drain();
      await writer.flush();
    },
    stats: () => writer.stats(),
    close: () => app.close(),
  };
}
