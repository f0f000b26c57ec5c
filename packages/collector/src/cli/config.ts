/** The environment a user configures mcptrail with (DESIGN.md "Interfaces users touch"). */
import { resolve } from 'node:path';

export interface CliConfig {
  dataDir: string;
  collectorUrl: string;
  /** True when the user named a collector: then it is never bypassed. */
  collectorExplicit: boolean;
  clickhouseUrl?: string;
  ingestToken?: string;
  readToken?: string;
  /** Where the built-in evaluator sends alerts (Alertmanager API v2 base URL). */
  alertmanagerUrl?: string;
  /** Where the built-in evaluator posts Alertmanager-webhook-shaped notifications. */
  alertWebhookUrl?: string;
}

export const DEFAULT_COLLECTOR_PORT = 4318;
export const DEFAULT_MCP_PORT = 3000;
export const DEFAULT_UPSTREAM_PORT = 3100;

export function loadConfig(env: NodeJS.ProcessEnv = process.env): CliConfig {
  const nonEmpty = (v: string | undefined) => (v && v.trim() !== '' ? v.trim() : undefined);
  const collector = nonEmpty(env.MCPTRAIL_COLLECTOR_URL);
  return {
    dataDir: resolve(nonEmpty(env.MCPTRAIL_DATA_DIR) ?? '.mcptrail'),
    collectorUrl: (collector ?? `http://127.0.0.1:${DEFAULT_COLLECTOR_PORT}`).replace(/\/+$/, ''),
    collectorExplicit: collector !== undefined,
    clickhouseUrl: nonEmpty(env.MCPTRAIL_CLICKHOUSE_URL),
    ingestToken: nonEmpty(env.MCPTRAIL_INGEST_TOKEN),
    readToken: nonEmpty(env.MCPTRAIL_READ_TOKEN),
    alertmanagerUrl: nonEmpty(env.MCPTRAIL_ALERTMANAGER_URL),
    alertWebhookUrl: nonEmpty(env.MCPTRAIL_ALERT_WEBHOOK_URL),
  };
}
