/**
 * What `instrument(server)` sets up for the whole process when the caller
 * leaves it to mcptrail, once: the default record sink (log line + durable
 * shipper), OpenTelemetry (started, or joined when the host runs an SDK),
 * and a flush on SIGTERM / SIGINT / a natural exit. `shutdown()` flushes and
 * stops all of it, and flushes the sinks callers passed in.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { createLogger, createRecordSink, createShipper, errorFields, type Logger, type RecordSink, type Shipper } from '../record/index.js';
import { pino } from '../record/pino.js';
import { joinTelemetry, startTelemetry, telemetryRunning, type Telemetry } from '../telemetry/index.js';
import { resolveTargets } from '../telemetry/targets.js';
import type { InstrumentOptions } from './instrumentation.js';
import { closeSharedState } from './shared-state.js';

interface DefaultSink extends RecordSink {
  logger: Logger;
  spoolDir: string | undefined;
}

let sink: DefaultSink | undefined;
let telemetry: Telemetry | undefined;
let telemetryTried = false;
/** Sinks callers passed in: flushed (not closed) by shutdown(). */
const watched = new Set<RecordSink>();
let signalsInstalled = false;
let shuttingDown: Promise<void> | undefined;

export function watchSink(s: RecordSink, opts: InstrumentOptions): RecordSink {
  watched.add(s);
  installSignals(opts);
  return s;
}

/** The process's default sink, created on first use with the first caller's options. */
export function defaultSink(opts: InstrumentOptions, service: string): RecordSink {
  if (sink) return sink;
  // stdout may be the MCP stdio channel: record lines go to stderr.
  const logger = createLogger({ destination: pino().destination({ dest: 2, sync: false }) });
  let shipper: Shipper | undefined;
  let spoolDir: string | undefined;
  if (opts.collectorUrl !== false) {
    const targets = resolveTargets({ collectorUrl: opts.collectorUrl, ingestToken: opts.ingestToken });
    ({ shipper, dir: spoolDir } = spooledShipper(targets.recordsUrl, targets.token, opts.spoolDir ?? process.env.MCPTRAIL_SPOOL_DIR ?? defaultSpoolDir(service), logger, service));
  }
  const inner = createRecordSink({ logger, shipper });
  sink = { ...inner, logger, spoolDir };
  installSignals(opts);
  return sink;
}

/** Starts or joins OpenTelemetry for the process, once. */
export function ensureTelemetry(opts: InstrumentOptions, service: string): void {
  if (telemetryTried) return;
  telemetryTried = true;
  const spoolDir = sink?.spoolDir ?? (opts.spoolDir ?? process.env.MCPTRAIL_SPOOL_DIR);
  const telemetryOptions = {
    serviceName: service,
    collectorUrl: opts.collectorUrl === false ? undefined : opts.collectorUrl,
    ingestToken: opts.ingestToken,
    spoolDir: spoolDir ? join(spoolDir, 'spans') : false,
    logger: sink?.logger ?? opts.logger,
  } as const;
  telemetry = joinTelemetry(telemetryOptions);
  if (!telemetry) {
    if (telemetryRunning()) {
      // A provider runs that mcptrail cannot join: its spans stay with the host's exporters.
      (sink?.logger ?? opts.logger)?.warn({ event: 'telemetry_not_joined' }, 'a tracer provider runs that mcptrail cannot add its exporter to; pass mcptrailSpanProcessor() to it');
    } else {
      telemetry = startTelemetry(telemetryOptions);
    }
  }
  installSignals(opts);
}

/** Exports what is buffered: records (all sinks) and spans. */
export async function flush(): Promise<void> {
  await Promise.all([sink?.flush(), telemetry?.forceFlush(), ...[...watched].map((s) => s.flush())]);
}

/**
 * Flushes and stops what mcptrail set up: the default sink (its spool keeps
 * anything unshipped for the next start), the telemetry it started or joined,
 * and flushes the sinks passed in. Safe to call more than once.
 */
export function shutdown(): Promise<void> {
  return (shuttingDown ??= (async () => {
    removeSignals();
    const results = await Promise.allSettled([sink?.close(), telemetry?.shutdown(), closeSharedState(sink?.logger), ...[...watched].map((s) => s.flush())]);
    sink = undefined;
    telemetry = undefined;
    telemetryTried = false;
    watched.clear();
    shuttingDown = undefined;
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  })());
}

const SIGNALS = ['SIGTERM', 'SIGINT'] as const;

function onSignal(signal: NodeJS.Signals): void {
  // `once` has already removed this listener: any left are the host's.
  const others = process.listenerCount(signal) > 0;
  shutdown()
    .catch(reportShutdownFailure(signal))
    .finally(() => {
      // Alone, we stand in for Node's default action (exit on the signal); with other listeners, the host decides.
      if (!others) process.kill(process.pid, signal);
    });
}

function onBeforeExit(): void {
  // The loop ran dry (a stdio server whose client left, a script): what is buffered gets out.
  shutdown().catch(reportShutdownFailure('exit'));
}

/** No logger may be left at this point: one line on stderr, class and code only. */
function reportShutdownFailure(when: string): (err: unknown) => void {
  return (err) => {
    const { error_class, error_code } = errorFields(err);
    process.stderr.write(`mcptrail: flushing records and spans on ${when} failed (${error_class}${error_code ? ` ${error_code}` : ''})\n`);
  };
}

function installSignals(opts: InstrumentOptions): void {
  if (signalsInstalled || opts.handleSignals === false) return;
  signalsInstalled = true;
  for (const s of SIGNALS) process.once(s, onSignal);
  process.once('beforeExit', onBeforeExit);
}

function removeSignals(): void {
  if (!signalsInstalled) return;
  signalsInstalled = false;
  for (const s of SIGNALS) process.off(s, onSignal);
  process.off('beforeExit', onBeforeExit);
}

function defaultSpoolDir(service: string): string {
  return join(homedir(), '.mcptrail', 'spool', service.replace(/[^\w.-]/g, '_').slice(0, 64) || 'mcp-server');
}

/**
 * A spooling shipper. One process per spool directory: when another live
 * process holds the default one (two replicas on a host), the next slot
 * (`<dir>.2` … `<dir>.8`) is used, so a restarted replica finds and ships
 * what a dead one left in its slot.
 */
function spooledShipper(url: string, token: string | undefined, dir: string, logger: Logger, service: string): { shipper: Shipper; dir: string } {
  let lastError: unknown;
  for (let slot = 1; slot <= 8; slot++) {
    const candidate = slot === 1 ? dir : `${dir}.${slot}`;
    try {
      return { shipper: createShipper({ url, token, spoolDir: candidate, logger, service }), dir: candidate };
    } catch (err) {
      if (!/in use by process/.test((err as Error)?.message ?? '')) throw err;
      lastError = err;
    }
  }
  throw lastError;
}
