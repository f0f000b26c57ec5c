/**
 * Tables the alerting side reads or writes that the store's migrations do not
 * (yet) create. The DDL is written once here; the lead moves it into a store
 * migration, after which `ensureAlertTables()` is a harmless no-op
 * (IF NOT EXISTS).
 */
import { DATABASE } from '../store/schema.js';

export const ALERT_TABLES = {
  /** Fired/resolved transitions written by the built-in evaluator; the incidents dashboard's annotations. */
  alertEvents: `${DATABASE}.alert_events`,
  /** Pipeline health events (shipper drops, spool overflow) reported by record shippers. */
  pipelineEvents: `${DATABASE}.pipeline_events`,
} as const;

export const CREATE_ALERT_EVENTS = `
CREATE TABLE IF NOT EXISTS ${ALERT_TABLES.alertEvents} (
    ts DateTime64(3, 'UTC') CODEC(Delta(8), ZSTD(1)),
    rule_uid LowCardinality(String),
    alertname LowCardinality(String),
    state LowCardinality(String),
    severity LowCardinality(String),
    tenant_id LowCardinality(String),
    fingerprint String,
    labels Map(LowCardinality(String), String),
    value Float64,
    starts_at DateTime64(3, 'UTC'),
    summary String CODEC(ZSTD(3))
) ENGINE = MergeTree()
PARTITION BY toYYYYMM(ts)
ORDER BY (rule_uid, ts)
TTL toDateTime(ts) + INTERVAL 400 DAY
SETTINGS ttl_only_drop_parts = 1`;

export const CREATE_PIPELINE_EVENTS = `
CREATE TABLE IF NOT EXISTS ${ALERT_TABLES.pipelineEvents} (
    ts DateTime64(3, 'UTC') CODEC(Delta(8), ZSTD(1)),
    service LowCardinality(String),
    instance String,
    event LowCardinality(String),
    reason LowCardinality(String),
    count UInt64 CODEC(T64, ZSTD(1))
) ENGINE = MergeTree()
PARTITION BY toDate(ts)
ORDER BY (event, service, ts)
TTL toDateTime(ts) + INTERVAL 90 DAY
SETTINGS ttl_only_drop_parts = 1`;

export const ALERT_TABLES_DDL: readonly string[] = [CREATE_ALERT_EVENTS, CREATE_PIPELINE_EVENTS];

export async function ensureAlertTables(store: { exec(sql: string): Promise<void> }): Promise<void> {
  for (const ddl of ALERT_TABLES_DDL) await store.exec(ddl);
}
