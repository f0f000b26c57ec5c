/** The `mcptrail` command. Verbs and flags are a contract (DESIGN.md). */
import { parseArgs } from 'node:util';
import { loadConfig, DEFAULT_COLLECTOR_PORT, DEFAULT_MCP_PORT, DEFAULT_UPSTREAM_PORT } from './config.js';
import { openReader, CliError } from './reader.js';
import { callsCommand } from './calls.js';
import { traceCommand } from './trace.js';
import { migrateCommand } from './migrate.js';
import { upCommand } from './up.js';
import { alertsCommand, collectorAlertsSource } from './alerts.js';
import { OUTCOMES } from 'mcptrail/record';
import { isStoreError, parseTtlDays, retentionFromEnv, type Retention } from '../store/index.js';
import { parseSince } from '../audit/index.js';
import { parseInstant } from '../audit/instant.js';
import { EXPORT_FORMATS, MAX_EXPORT_LIMIT, type ExportFormat } from '../audit/export.js';
import { describeExport, exportCommand } from './export.js';
import { formatHeads, formatVerify, parseExpect, verifyCommand } from './verify.js';

const USAGE = `usage: mcptrail <command> [options]

commands:
  up [--demo]            start the collector (and with --demo the CRM MCP server, its upstream and agents)
       [--host 127.0.0.1] [--port ${DEFAULT_COLLECTOR_PORT}] [--mcp-port ${DEFAULT_MCP_PORT}] [--upstream-port ${DEFAULT_UPSTREAM_PORT}] [--rate 0.5]
       [--traces-ttl-days 30] [--metrics-ttl-days 30]
  calls                  list tool calls, newest first
       [--tool T] [--tenant X] [--agent A] [--client C] [--outcome O] [--intent TEXT] [--since 1h, at most 31d] [--limit 100] [--rounds] [--json]
                         (one row per logical call; --rounds lists every round of multi-round-trip calls;
                          --intent finds calls whose stated intent contains TEXT, case-insensitive)
  trace <traceId>        the spans and call records of one trace [--json]
  alerts                 the alert rules' current state: firing, pending, recently resolved [--json]
  migrate                apply pending schema migrations and the retention [--traces-ttl-days N] [--metrics-ttl-days N] [--json]
  export --out DIR       calls of a time range as data files plus manifest.json (rows, sha256 per file)
       [--tenant T] [--since 24h|ISO] [--until now|ISO] [--format ndjson|parquet] [--rows-per-file 100000] [--json]
  verify                 check the tamper-evidence ledger against tool_calls; exit 1 naming the rows that differ
       [--tenant T] [--since 7d|ISO] [--expect SEQ:DIGEST|heads.json] [--head] [--json]

environment:
  MCPTRAIL_DATA_DIR        embedded ClickHouse and demo files (default ./.mcptrail)
  MCPTRAIL_CLICKHOUSE_URL  use a ClickHouse server over HTTP instead of the embedded engine
  MCPTRAIL_COLLECTOR_URL   the collector the CLI reads from (default http://127.0.0.1:${DEFAULT_COLLECTOR_PORT})
  MCPTRAIL_INGEST_TOKEN    bearer token required by /v1/* when set
  MCPTRAIL_READ_TOKEN      bearer token required by /api/* when set
  MCPTRAIL_ALERTMANAGER_URL   send alerts to this Alertmanager (API v2)
  MCPTRAIL_ALERT_WEBHOOK_URL  post alert notifications to this webhook
  MCPTRAIL_TRACES_TTL_DAYS    days spans are kept (default 30, 0 = no TTL)
  MCPTRAIL_METRICS_TTL_DAYS   days metric points are kept (default 30, 0 = no TTL)`;

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  // `mcptrail calls --json | head`: the reader leaving early is not an error of ours.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    process.exit(process.exitCode ?? 0);
  });
  const out = (text: string) => process.stdout.write(text + '\n');
  try {
    switch (command) {
      case 'up':
        return await up(rest, out);
      case 'calls':
        return await calls(rest, out);
      case 'trace':
        return await trace(rest, out);
      case 'alerts': {
        const { values } = parseArgs({ args: rest, options: { json: { type: 'boolean', default: false } }, strict: true });
        out(await alertsCommand(collectorAlertsSource(loadConfig()), values.json!));
        return 0;
      }
      case 'export':
        return await exportVerb(rest, out);
      case 'verify':
        return await verifyVerb(rest, out);
      case 'migrate': {
        const { values } = parseArgs({ args: rest, options: { json: { type: 'boolean', default: false }, ...TTL_FLAGS }, strict: true });
        out(await migrateCommand(loadConfig(), values.json!, retentionOf(values)));
        return 0;
      }
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        out(USAGE);
        return command === undefined ? 2 : 0;
      default:
        throw new CliError(`unknown command "${command}"\n\n${USAGE}`, 2);
    }
  } catch (err) {
    if (err instanceof CliError) {
      process.stderr.write(`mcptrail: ${err.message}\n`);
      return err.exitCode;
    }
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      const { address, port } = err as { address?: string; port?: number };
      process.stderr.write(`mcptrail: ${address ?? '127.0.0.1'}:${port ?? '?'} is already in use (is \`mcptrail up\` already running?). Stop it or pick another port.\n`);
      return 1;
    }
    if (isStoreError(err)) {
      // The store's message can quote data: show it to the operator on the terminal, never log it.
      const hint =
        err.driver === 'embedded'
          ? `\nThe embedded store is owned by one process at a time: if \`mcptrail up\` is running on ${loadConfig().dataDir}, read through its collector (MCPTRAIL_COLLECTOR_URL).`
          : '\nCheck MCPTRAIL_CLICKHOUSE_URL and that the server is reachable.';
      process.stderr.write(`mcptrail: store error (${err.code}): ${err.message}${hint}\n`);
      return 1;
    }
    if ((err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`mcptrail: ${(err as Error).message}\n\n${USAGE}\n`);
      return 2;
    }
    process.stderr.write(`mcptrail: ${(err as Error).stack ?? err}\n`);
    return 1;
  }
}

const TTL_FLAGS = { 'traces-ttl-days': { type: 'string' }, 'metrics-ttl-days': { type: 'string' } } as const;

/** The table TTLs: --traces-ttl-days / --metrics-ttl-days over MCPTRAIL_TRACES_TTL_DAYS / MCPTRAIL_METRICS_TTL_DAYS over 30 days. */
function retentionOf(values: { 'traces-ttl-days'?: string; 'metrics-ttl-days'?: string }): Retention {
  try {
    const env = retentionFromEnv();
    const days = (flag: 'traces-ttl-days' | 'metrics-ttl-days', fallback: number) => (values[flag] === undefined ? fallback : parseTtlDays(values[flag]!, `--${flag}`));
    return { tracesTtlDays: days('traces-ttl-days', env.tracesTtlDays), metricsTtlDays: days('metrics-ttl-days', env.metricsTtlDays) };
  } catch (err) {
    throw new CliError((err as Error).message, 2);
  }
}

async function calls(args: string[], out: (s: string) => void): Promise<number> {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      tool: { type: 'string' },
      tenant: { type: 'string' },
      agent: { type: 'string' },
      client: { type: 'string' },
      intent: { type: 'string' },
      rounds: { type: 'boolean', default: false },
      outcome: { type: 'string' },
      since: { type: 'string', default: '1h' },
      limit: { type: 'string', default: '100' },
      json: { type: 'boolean', default: false },
    },
  });
  if (values.outcome && !(OUTCOMES as readonly string[]).includes(values.outcome)) {
    throw new CliError(`--outcome must be one of ${OUTCOMES.join(', ')}`, 2);
  }
  try {
    parseSince(values.since!);
  } catch (err) {
    throw new CliError(`--${(err as Error).message}`, 2);
  }
  const limit = Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new CliError('--limit must be an integer from 1 to 1000', 2);
  if (values.intent !== undefined && (values.intent.trim() === '' || values.intent.length > 300)) throw new CliError('--intent must be text of 1 to 300 characters', 2);
  const reader = await openReader(loadConfig());
  try {
    const filter = { tool: values.tool, tenant: values.tenant, agent: values.agent, client: values.client, intent: values.intent?.trim(), outcome: values.outcome as never, since: values.since, limit, rounds: values.rounds ? ('all' as const) : undefined };
    out(await callsCommand(reader, filter, values.json!));
    return 0;
  } finally {
    await reader.close();
  }
}

async function trace(args: string[], out: (s: string) => void): Promise<number> {
  const { values, positionals } = parseArgs({ args, strict: true, allowPositionals: true, options: { json: { type: 'boolean', default: false } } });
  if (positionals.length !== 1) throw new CliError('usage: mcptrail trace <traceId> [--json]', 2);
  const reader = await openReader(loadConfig());
  try {
    out(await traceCommand(reader, positionals[0].toLowerCase(), values.json!));
    return 0;
  } finally {
    await reader.close();
  }
}

function instantFlag(name: string, value: string, nowMs: number): number {
  try {
    return parseInstant(value, nowMs);
  } catch (err) {
    throw new CliError(`--${name}: ${(err as Error).message}`, 2);
  }
}

async function exportVerb(args: string[], out: (s: string) => void): Promise<number> {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      tenant: { type: 'string' },
      since: { type: 'string', default: '24h' },
      until: { type: 'string' },
      format: { type: 'string', default: 'ndjson' },
      out: { type: 'string' },
      'rows-per-file': { type: 'string', default: '100000' },
      json: { type: 'boolean', default: false },
    },
  });
  if (!values.out) throw new CliError('export needs --out DIR', 2);
  if (!(EXPORT_FORMATS as readonly string[]).includes(values.format!)) throw new CliError(`--format must be one of ${EXPORT_FORMATS.join(', ')}`, 2);
  const rowsPerFile = Number(values['rows-per-file']);
  if (!Number.isInteger(rowsPerFile) || rowsPerFile < 1 || rowsPerFile > MAX_EXPORT_LIMIT) throw new CliError(`--rows-per-file must be an integer from 1 to ${MAX_EXPORT_LIMIT}`, 2);
  const nowMs = Date.now();
  const sinceMs = instantFlag('since', values.since!, nowMs);
  const untilMs = values.until ? instantFlag('until', values.until, nowMs) : nowMs;
  if (!(untilMs > sinceMs)) throw new CliError('--until must be after --since', 2);
  const reader = await openReader(loadConfig());
  try {
    const manifest = await exportCommand(reader, { tenant: values.tenant, sinceMs, untilMs, format: values.format as ExportFormat, out: values.out, rowsPerFile });
    out(values.json ? JSON.stringify(manifest, null, 2) : describeExport(manifest, values.out));
    return 0;
  } finally {
    await reader.close();
  }
}

async function verifyVerb(args: string[], out: (s: string) => void): Promise<number> {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      tenant: { type: 'string' },
      since: { type: 'string' },
      expect: { type: 'string' },
      head: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    },
  });
  const sinceMs = values.since ? instantFlag('since', values.since, Date.now()) : undefined;
  const expect = values.expect ? parseExpect(values.expect, values.tenant) : [];
  const reader = await openReader(loadConfig());
  try {
    if (values.head) {
      const heads = await reader.heads(values.tenant);
      out(values.json ? JSON.stringify({ heads }, null, 2) : formatHeads(heads));
      return 0;
    }
    const report = await verifyCommand(reader, { tenant: values.tenant, sinceMs, expect });
    out(values.json ? JSON.stringify(report, null, 2) : formatVerify(report));
    return report.ok ? 0 : 1;
  } finally {
    await reader.close();
  }
}

async function up(args: string[], out: (s: string) => void): Promise<number> {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      demo: { type: 'boolean', default: false },
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string', default: String(DEFAULT_COLLECTOR_PORT) },
      'mcp-port': { type: 'string', default: String(DEFAULT_MCP_PORT) },
      'upstream-port': { type: 'string', default: String(DEFAULT_UPSTREAM_PORT) },
      rate: { type: 'string', default: '0.5' },
      ...TTL_FLAGS,
    },
  });
  const port = (name: string, v: string | undefined) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0 || n > 65535) throw new CliError(`--${name} must be a port number (0 picks a free one)`, 2);
    return n;
  };
  const rate = Number(values.rate);
  if (!(rate >= 0 && rate <= 100)) throw new CliError('--rate must be calls per second per agent, from 0 to 100', 2);
  const retention = retentionOf(values);
  const stop = await upCommand(
    loadConfig(),
    {
      demo: values.demo!,
      host: values.host!,
      port: port('port', values.port),
      mcpPort: port('mcp-port', values['mcp-port']),
      upstreamPort: port('upstream-port', values['upstream-port']),
      ratePerAgent: rate,
      retention,
    },
    out,
  );
  await new Promise<void>((resolve) => {
    const onSignal = () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      resolve();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
  out('stopping: flushing records and spans…');
  await stop();
  return 0;
}
