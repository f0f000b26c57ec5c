/**
 * One server definition's instrumentation, compiled once: options resolved,
 * tool policies merged with the defaults and memoised per tool name (with
 * their output guards), the tracer and the metrics taken. A stateless HTTP
 * server builds an McpServer per request; each is instrumented with the same
 * compiled instrumentation, so nothing is recompiled per request.
 *
 * `instrument(server, options)` compiles `options` on first sight and reuses
 * the result for the same options object; `createInstrumentation(options)`
 * does it explicitly (the fastify plugin does, and shares it with the edge).
 */
import { trace, type Tracer } from '@opentelemetry/api';
import type { Logger, RecordSink } from '../record/index.js';
import type { ConcurrencyCap, IdempotencyStore, LimitsConfig, RateLimits } from '../runtime/index.js';
import type { IdentityOptions } from './identity.js';
import { serverMetrics, type ServerMetrics } from './metrics.js';
import { resolvePolicy, type ToolPolicy } from './policy.js';
import { defaultSink, ensureTelemetry, watchSink } from './process.js';
import { roundCodec, type RoundCodec } from './rounds.js';
import { serverName } from './sdk-internals.js';
import { sharedState, type SharedState } from './shared-state.js';

export interface InstrumentOptions extends IdentityOptions {
  /**
   * Service name on records (and, when mcptrail starts the SDK, service.name).
   * OTEL_SERVICE_NAME wins, as it does for every OTel SDK; default the MCP
   * server's own name.
   */
  service?: string;
  /**
   * Where records go. Default: built from the environment — a pino JSON line
   * per call on stderr (stdout may be an MCP stdio channel) and the durable
   * shipper to the collector (`MCPTRAIL_COLLECTOR_URL`, default
   * http://127.0.0.1:4318; spooled under `MCPTRAIL_SPOOL_DIR`, default
   * `~/.mcptrail/spool/<service>`).
   */
  sink?: RecordSink;
  /** Per-tool policies (scope, kind, budget, version, redaction, output). Given once: the HTTP edge reads the same. */
  tools?: Record<string, ToolPolicy>;
  defaults?: ToolPolicy;
  tracerName?: string;
  /**
   * Budgets checked inside the pipeline, answered as a tool result
   * (`rate_limited: true`, `retry_after_seconds`, `budget`): typically the
   * per-tool and per-tenant ones. The per-agent budget belongs at the HTTP
   * edge (`edgeLimits` of the fastify plugin, answered 429 + Retry-After).
   * A LimitsConfig is built on Redis when MCPTRAIL_REDIS_URL is set, else in memory.
   */
  limits?: RateLimits | LimitsConfig;
  /** In-flight calls per tenant: a cap, or its size (on Redis with MCPTRAIL_REDIS_URL, else per process). */
  concurrency?: ConcurrencyCap | number;
  /** Deduplicates write tools (policy `kind: 'write'` or `idempotent: true`): a store, or true for the default one. */
  idempotency?: IdempotencyStore | boolean;
  /** Redis for the declarative limits and stores above. Default env MCPTRAIL_REDIS_URL. */
  redisUrl?: string;
  /** Operational lines (a deprecated tool's warn line, a failing sink). Default: the default sink's logger. */
  logger?: Logger;
  /** Put the tenant on `mcp.server.operation.duration` (one series per tenant × tool × error type). Default false. */
  metricsTenantLabel?: boolean;
  /**
   * Start an OpenTelemetry SDK when none runs, or join the running one
   * (NodeSDK, a registered provider), exporting to the collector. Default:
   * on when `sink` is left to mcptrail, off when the caller wires its own.
   */
  telemetry?: boolean;
  /** Base URL of the collector for the default sink and telemetry (default MCPTRAIL_COLLECTOR_URL); false: log lines only. */
  collectorUrl?: string | false;
  /** Bearer token of the collector's ingest routes (default MCPTRAIL_INGEST_TOKEN). */
  ingestToken?: string;
  /** Spool directory of the default sink (default MCPTRAIL_SPOOL_DIR, else ~/.mcptrail/spool/<service>). */
  spoolDir?: string;
  /** Flush records and spans on SIGTERM/SIGINT (and before a natural exit). Default true. */
  handleSignals?: boolean;
  /**
   * HMAC key (≥ 32 bytes) sealing the logical call into a multi-round-trip
   * `requestState` (2026-07-28 `input_required`). Every instance that may
   * serve a later round needs the same key. Default env
   * MCPTRAIL_REQUEST_STATE_KEY, else a random key per process.
   */
  requestStateKey?: string | Uint8Array;
  /** How long a round's `requestState` stays valid, in seconds. Default 600. */
  requestStateTtlSeconds?: number;
}

const COMPILED = Symbol.for('mcptrail.instrumentation');

export interface Instrumentation {
  readonly [COMPILED]: true;
  readonly options: Readonly<InstrumentOptions>;
  readonly tracer: Tracer;
  readonly metrics: ServerMetrics;
  /** Seals and opens the logical call in multi-round-trip state (one key for every server built from these options). */
  readonly rounds: RoundCodec;
  /** The tool's policy merged with the defaults, the same object every time. */
  policyOf(tool: string): ToolPolicy;
  /** The service name (resolved once, from the first server seen when no name is configured). */
  service(server?: unknown): string;
  /** The record sink (the caller's, or the process default created on first use). */
  sink(server?: unknown): RecordSink;
  /** The logger for operational lines, if any. */
  logger(server?: unknown): Logger | undefined;
  /** Limits and stores, built once from the options (instances as given). */
  state(server?: unknown): SharedState;
}

const byOptions = new WeakMap<object, Instrumentation>();

export function isInstrumentation(v: unknown): v is Instrumentation {
  return typeof v === 'object' && v !== null && COMPILED in v;
}

/** The compiled instrumentation of `options` (compiled once per options object). */
export function instrumentationOf(options?: InstrumentOptions | Instrumentation): Instrumentation {
  if (isInstrumentation(options)) return options;
  if (!options) return defaultInstrumentation();
  let found = byOptions.get(options);
  if (!found) byOptions.set(options, (found = createInstrumentation(options)));
  return found;
}

let fallback: Instrumentation | undefined;
function defaultInstrumentation(): Instrumentation {
  return (fallback ??= createInstrumentation({}));
}

export function createInstrumentation(options: InstrumentOptions = {}): Instrumentation {
  const opts = { ...options };
  const policies = new Map<string, ToolPolicy>();
  const tracer = trace.getTracer(opts.tracerName ?? 'mcptrail');
  const metrics = serverMetrics({ tenantLabel: opts.metricsTenantLabel });
  let service: string | undefined;
  let sink: RecordSink | undefined;
  let state: SharedState | undefined;

  const self: Instrumentation = {
    [COMPILED]: true,
    options: opts,
    tracer,
    metrics,
    rounds: roundCodec({ key: opts.requestStateKey, ttlSeconds: opts.requestStateTtlSeconds }),
    policyOf(tool) {
      let policy = policies.get(tool);
      if (!policy) {
        policy = resolvePolicy(tool, opts.tools, opts.defaults);
        // Registered tools are the author's; unknown names (SDK rejections) are not memoised.
        if (policies.size < 10_000) policies.set(tool, policy);
      }
      return policy;
    },
    service(server) {
      return (service ??= process.env.OTEL_SERVICE_NAME || opts.service || serverName(server) || 'mcp-server');
    },
    sink(server) {
      if (sink) return sink;
      const name = self.service(server);
      sink = opts.sink ? watchSink(opts.sink, opts) : defaultSink(opts, name);
      // After the sink: spans spool next to its records (the same slot) and drops go to its logger.
      if (opts.telemetry ?? opts.sink === undefined) ensureTelemetry(opts, name);
      return sink;
    },
    logger(server) {
      return opts.logger ?? (opts.sink ? undefined : defaultSinkLogger(self, server));
    },
    state(server) {
      return (state ??= sharedState(opts, self.service(server), self.logger(server)));
    },
  };
  return self;
}

function defaultSinkLogger(instr: Instrumentation, server: unknown): Logger | undefined {
  return (instr.sink(server) as RecordSink & { logger?: Logger }).logger;
}
