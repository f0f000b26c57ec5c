/**
 * `mcptrail up [--demo]`: the collector on the configured store, and with
 * --demo the CRM MCP server, its upstream and synthetic agents, all on
 * loopback. Stops cleanly on SIGINT/SIGTERM, flushing what is in flight.
 */
import { join, relative } from 'node:path';
import { embeddedPath, openMarker, openStore, migrate, repairRollup, type Retention } from '../store/index.js';
import { createCollector, readTokensFromEnv } from '../collector/index.js';
import { startDemo, type Demo } from '../demo/index.js';
import { AlertEvaluator, alertmanagerNotifier, webhookNotifier, type Notifier } from '../alerts/index.js';
import type { CliConfig } from './config.js';
import { AUDIT_TOOLS } from '../audit-mcp/index.js';

export interface UpOptions {
  demo: boolean;
  host: string;
  port: number;
  mcpPort: number;
  upstreamPort: number;
  ratePerAgent: number;
  /** Table TTLs of spans and metric points; default: the environment's (retention.ts). */
  retention?: Retention;
}

export async function upCommand(config: CliConfig, opts: UpOptions, print: (line: string) => void): Promise<() => Promise<void>> {
  const store = await openStore({ url: config.clickhouseUrl, dataDir: config.dataDir });
  await migrate(store, undefined, { retention: opts.retention });
  // The embedded engine dies with this process: after a crash, an insert cut off between tool_calls and
  // its rollup left rows the rollup misses (the re-send is deduplicated), so the last week is compared.
  const marker = config.clickhouseUrl ? undefined : openMarker(embeddedPath(config.dataDir));
  const repaired = marker?.previousRunCrashed ? await repairRollup(store, { sinceMs: Date.now() - ROLLUP_CHECK_AFTER_CRASH_MS }) : undefined;
  // The same rules Grafana is provisioned with, evaluated here so alerts reach people without Grafana.
  const notifiers: Notifier[] = [];
  if (config.alertmanagerUrl) notifiers.push(alertmanagerNotifier({ url: config.alertmanagerUrl }));
  if (config.alertWebhookUrl) notifiers.push(webhookNotifier({ url: config.alertWebhookUrl }));
  const evaluator = new AlertEvaluator({ store, notifiers });
  const collector = await createCollector({
    store,
    ingestToken: config.ingestToken,
    readToken: config.readToken,
    alerts: evaluator,
    // The audit server's own records are on disk before its calls answer, like any instrumented server's.
    auditMcp: { spoolDir: join(config.dataDir, 'audit-mcp-spool') },
  });
  await collector.app.listen({ host: opts.host, port: opts.port });
  const address = collector.app.server.address();
  const port = typeof address === 'object' && address ? address.port : opts.port;
  const collectorUrl = `http://${opts.host}:${port}`;

  evaluator.start();

  let demo: Demo | undefined;
  if (opts.demo) {
    demo = await startDemo({
      collectorUrl,
      dataDir: config.dataDir,
      host: opts.host,
      mcpPort: opts.mcpPort,
      upstreamPort: opts.upstreamPort,
      ingestToken: config.ingestToken,
      ratePerAgent: opts.ratePerAgent,
    });
  }

  const where = config.clickhouseUrl ? `ClickHouse at ${config.clickhouseUrl}` : `embedded ClickHouse under ${display(config.dataDir)}/clickhouse`;
  print('mcptrail is up');
  print(`  console       ${collectorUrl}/  (fleet, tenants, calls, traces and alerts in the browser)`);
  print(`  collector     ${collectorUrl}  (OTLP ${collectorUrl}/v1/traces and /v1/metrics, records /v1/records, audit API /api/calls)`);
  const readsOpen = !config.readToken && Object.keys(readTokensFromEnv()).length === 0;
  print(`  audit MCP     ${collectorUrl}/mcp  (${AUDIT_TOOLS.length} tools: ${AUDIT_TOOLS.join(', ')}; ${readsOpen ? 'open to loopback clients, no token' : 'bearer: a read token'})`);
  print(`  store         ${where}`);
  if (repaired) {
    print(`  recovered     the last run stopped without closing the store: ${repaired.minutesRebuilt} of ${repaired.minutesChecked} rollup minutes of the last 7 days rebuilt from tool_calls`);
  }
  if (readsOpen && !LOOPBACK.has(opts.host)) {
    print(`  warning       reads are open (no MCPTRAIL_READ_TOKEN or MCPTRAIL_READ_TOKENS) and the collector listens on ${opts.host}: whoever reaches it reads the audit trail`);
  }
  const targets = [config.alertmanagerUrl && `Alertmanager ${config.alertmanagerUrl}`, config.alertWebhookUrl && `webhook ${config.alertWebhookUrl}`].filter(Boolean);
  print(`  alerts        ${evaluator.rules.length} rules evaluated every minute → ${targets.length ? targets.join(', ') : 'no receiver (set MCPTRAIL_ALERTMANAGER_URL or MCPTRAIL_ALERT_WEBHOOK_URL)'}`);
  if (demo) {
    const tenants = [...new Set(demo.file.agents.map((a) => a.tenantId))];
    print(`  demo MCP      ${demo.file.mcpUrl}  (${demo.tools.length} tools: ${demo.tools.join(', ')})`);
    print(`  upstream CRM  ${demo.file.upstreamUrl}  (the customer system the tools call)`);
    print(`  agents        ${demo.file.agents.length} synthetic agents for ${tenants.join(', ')}${opts.ratePerAgent > 0 ? `, ${opts.ratePerAgent} call/s each` : ' (not started)'}`);
    print(`  demo.json     ${display(demo.filePath)}  (URLs and agent tokens, to call the server yourself)`);
  }
  print('');
  print('Next, in another terminal:');
  print('  npx mcptrail calls                          # the latest tool calls: who, for whom, what happened');
  print('  npx mcptrail calls --tenant acme --since 15m');
  print('  npx mcptrail calls --outcome denied --json');
  print('  npx mcptrail trace <TRACE>                  # the spans of one call, down to the upstream request');
  print('  npx mcptrail alerts                         # what the alert rules see now');
  print('  npx mcptrail export --tenant acme --since 1h --out ./export   # data files + manifest with sha256');
  print('  npx mcptrail verify --tenant acme           # the tamper-evidence ledger against the stored rows');
  print(`Or point an MCP client at ${collectorUrl}/mcp${readsOpen ? '' : ' (bearer: a read token)'} and ask "which agent issued the last refund?".`);
  print('Ctrl-C stops everything.');

  return async () => {
    await demo?.close();
    await evaluator.stop();
    await collector.close();
    await store.close();
    marker?.clear();
  };
}

const ROLLUP_CHECK_AFTER_CRASH_MS = 7 * 24 * 3600_000;

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

function display(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith('..') ? `./${rel}` : path;
}
