/**
 * The collector, laid out like the OpenTelemetry Collector: receivers
 * (OTLP/HTTP traces, NDJSON records) → processors (decode, validate, map to
 * rows) → exporter (the batching writer into the store); plus the audit API
 * and health endpoints.
 */
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import { isStoreError, type Store } from '../store/index.js';
import { auditApi } from './api.js';
import { alertsApi, type AlertsSource } from '../alerts/api.js';
import { bearerGuard } from './auth.js';
import { DEFAULT_BODY_LIMITS, acceptRawBodies, type BodyLimits } from './body.js';
import { HttpError } from './errors.js';
import { otlpReceiver } from './receivers/otlp.js';
import { recordsReceiver } from './receivers/records.js';
import { BatchWriter, DEFAULT_BATCH, type BatchOptions } from './writer.js';

export interface CollectorOptions {
  store: Store;
  /** Required on /v1/* when set. Default: env MCPTRAIL_INGEST_TOKEN. */
  ingestToken?: string;
  /** Required on /api/* when set. Default: env MCPTRAIL_READ_TOKEN. */
  readToken?: string;
  logger?: FastifyBaseLogger;
  batch?: Partial<BatchOptions>;
  limits?: Partial<BodyLimits>;
  /** The built-in alert evaluator, whose state `GET /api/alerts` serves. */
  alerts?: AlertsSource;
}

export interface Collector {
  app: FastifyInstance;
  /** Writes every pending batch now. */
  flush(): Promise<void>;
  /** Stops the HTTP server and flushes pending batches. The store stays open (its owner closes it). */
  close(): Promise<void>;
}

export async function createCollector(opts: CollectorOptions): Promise<Collector> {
  const ingestToken = opts.ingestToken ?? (process.env.MCPTRAIL_INGEST_TOKEN || undefined);
  const readToken = opts.readToken ?? (process.env.MCPTRAIL_READ_TOKEN || undefined);
  const limits: BodyLimits = { ...DEFAULT_BODY_LIMITS, ...opts.limits };
  const app: FastifyInstance = opts.logger ? Fastify({ loggerInstance: opts.logger }) : Fastify({ logger: false });
  const writer = new BatchWriter(opts.store, { ...DEFAULT_BATCH, ...opts.batch }, app.log);

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
  });

  await app.register(async (api) => {
    if (readToken) api.addHook('onRequest', bearerGuard(readToken));
    await api.register(auditApi(opts.store));
    await api.register(alertsApi(opts.alerts));
  });

  // Requests still in flight finish first (fastify waits for them), then the last batches go out.
  app.addHook('onClose', async () => writer.close());

  return {
    app,
    flush: () => writer.flush(),
    close: () => app.close(),
  };
}
