/**
 * DDL of the mcptrail database. Migrations reference these statements; they
 * are written once here and never edited after release (a change is a new
 * migration).
 */
import { clickhouseColumns } from 'mcptrail/record';

export const DATABASE = 'mcptrail';

/** The engine of `tool_calls`, in one place: a later migration swaps in dedup (ReplacingMergeTree) or Replicated*. */
export const TOOL_CALLS_ENGINE = 'MergeTree()';

export const TOOL_CALLS_TTL_DAYS = 90;
export const TRACES_TTL_DAYS = 30;
export const ROLLUP_TTL_DAYS = 400;

export const TABLES = {
  schemaMigrations: `${DATABASE}.schema_migrations`,
  toolCalls: `${DATABASE}.tool_calls`,
  toolCalls1m: `${DATABASE}.tool_calls_1m`,
  toolCalls1mMv: `${DATABASE}.tool_calls_1m_mv`,
  otelTraces: `${DATABASE}.otel_traces`,
  otelTracesTraceIdTs: `${DATABASE}.otel_traces_trace_id_ts`,
  otelTracesTraceIdTsMv: `${DATABASE}.otel_traces_trace_id_ts_mv`,
  /** Fired/resolved alert transitions written by the built-in evaluator (dashboard annotations). */
  alertEvents: `${DATABASE}.alert_events`,
  /** Pipeline health events (shipper drops, spool overflow) reported by record shippers. */
  pipelineEvents: `${DATABASE}.pipeline_events`,
  /** The tamper-evidence ledger: one entry per stored batch and tenant, chained by digest (audit/ledger-entry.ts). */
  ledger: `${DATABASE}.ledger`,
  /** OTLP metrics, one table per point type, in the OpenTelemetry Collector ClickHouse exporter's schema. */
  otelMetricsGauge: `${DATABASE}.otel_metrics_gauge`,
  otelMetricsSum: `${DATABASE}.otel_metrics_sum`,
  otelMetricsHistogram: `${DATABASE}.otel_metrics_histogram`,
  otelMetricsExponentialHistogram: `${DATABASE}.otel_metrics_exponential_histogram`,
  otelMetricsSummary: `${DATABASE}.otel_metrics_summary`,
} as const;

/** Ledger entries outlive the rows they cover (whose TTL runs from `ts`, never later than ingestion) by a month. */
export const LEDGER_TTL_DAYS = TOOL_CALLS_TTL_DAYS + 31;

/**
 * The `tool_calls` columns a later migration adds (fields whose `since` is
 * that migration), appended after the existing ones, in field order.
 */
export function addToolCallsColumns(migration: number): string[] {
  return clickhouseColumns(migration).map((c) => `ALTER TABLE ${TABLES.toolCalls} ADD COLUMN IF NOT EXISTS ${c}`);
}

/**
 * The search index of `tool_calls.intent` (migration 8): an n-gram bloom
 * filter over the lower-cased text, so a case-insensitive substring search
 * (`lower(intent) LIKE '%word%'`, audit/filters.ts) skips granules that
 * cannot match — on every engine version (a `text` index needs 26.2).
 * Parts written before the ALTER get it too (a background mutation).
 */
export const TOOL_CALLS_INTENT_INDEX: readonly string[] = [
  `ALTER TABLE ${TABLES.toolCalls} ADD INDEX IF NOT EXISTS idx_intent lower(intent) TYPE ngrambf_v1(3, 8192, 3, 0) GRANULARITY 4`,
  `ALTER TABLE ${TABLES.toolCalls} MATERIALIZE INDEX idx_intent`,
];

export const CREATE_DATABASE = `CREATE DATABASE IF NOT EXISTS ${DATABASE}`;

export const CREATE_SCHEMA_MIGRATIONS = `
CREATE TABLE IF NOT EXISTS ${TABLES.schemaMigrations} (
    version UInt32,
    name String,
    applied_at DateTime64(3, 'UTC') DEFAULT now64(3)
) ENGINE = ReplacingMergeTree(applied_at)
ORDER BY version`;

/**
 * The audit table as the first migration created it: its columns come from
 * the CallRecord schema (the single source of truth), those of migration 1.
 */
export function createToolCalls(): string {
  const columns = clickhouseColumns(1).map((c) => `    ${c},`);
  return `
CREATE TABLE IF NOT EXISTS ${TABLES.toolCalls} (
${columns.join('\n')}
    INDEX idx_trace_id trace_id TYPE bloom_filter(0.001) GRANULARITY 1,
    INDEX idx_call_id call_id TYPE bloom_filter(0.001) GRANULARITY 1,
    INDEX idx_agent_id agent_id TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_duration duration_ms TYPE minmax GRANULARITY 1
) ENGINE = ${TOOL_CALLS_ENGINE}
PARTITION BY toDate(ts)
ORDER BY (tenant_id, tool, ts)
TTL toDateTime(ts) + INTERVAL ${TOOL_CALLS_TTL_DAYS} DAY
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1`;
}

/**
 * Per-minute rollup. Every non-key column is an aggregate (ClickHouse 26
 * rejects anything else in AggregatingMergeTree); rows are only partially
 * merged, so read it with GROUP BY and sum/max/...Merge.
 */
export const CREATE_TOOL_CALLS_1M = `
CREATE TABLE IF NOT EXISTS ${TABLES.toolCalls1m} (
    minute DateTime('UTC') CODEC(Delta(4), ZSTD(1)),
    tenant_id LowCardinality(String),
    tool LowCardinality(String),
    outcome LowCardinality(String),
    calls SimpleAggregateFunction(sum, UInt64),
    duration_ms_sum SimpleAggregateFunction(sum, Float64),
    duration_ms_max SimpleAggregateFunction(max, Float32),
    duration_ms_quantiles AggregateFunction(quantilesTDigest(0.5, 0.95, 0.99), Float32),
    agents AggregateFunction(uniq, String),
    upstream_retries SimpleAggregateFunction(sum, UInt64),
    rate_limited SimpleAggregateFunction(sum, UInt64),
    auth_refresh SimpleAggregateFunction(sum, UInt64),
    auth_refresh_failed SimpleAggregateFunction(sum, UInt64)
) ENGINE = AggregatingMergeTree()
PARTITION BY toYYYYMM(minute)
ORDER BY (tenant_id, tool, outcome, minute)
TTL minute + INTERVAL ${ROLLUP_TTL_DAYS} DAY
SETTINGS ttl_only_drop_parts = 1`;

/** The rollup's aggregation of `tool_calls` rows: the view's, and the rollup repair's (rollup-repair.ts). */
export function toolCalls1mSelect(source: string): string {
  return `SELECT
    toStartOfMinute(toDateTime(ts, 'UTC')) AS minute,
    tenant_id,
    tool,
    outcome,
    toUInt64(count()) AS calls,
    sum(toFloat64(duration_ms)) AS duration_ms_sum,
    max(duration_ms) AS duration_ms_max,
    quantilesTDigestState(0.5, 0.95, 0.99)(duration_ms) AS duration_ms_quantiles,
    uniqState(agent_id) AS agents,
    sum(toUInt64(upstream_retries)) AS upstream_retries,
    toUInt64(countIf(rate_limited)) AS rate_limited,
    sum(toUInt64(auth_refresh)) AS auth_refresh,
    sum(toUInt64(auth_refresh_failed)) AS auth_refresh_failed
FROM ${source}
GROUP BY minute, tenant_id, tool, outcome`;
}

export const CREATE_TOOL_CALLS_1M_MV = `
CREATE MATERIALIZED VIEW IF NOT EXISTS ${TABLES.toolCalls1mMv} TO ${TABLES.toolCalls1m} AS\n${toolCalls1mSelect(TABLES.toolCalls)}`;

/**
 * The OpenTelemetry Collector ClickHouse exporter's traces table (current
 * template, bloom_filter index variant), so Grafana's trace view and the
 * official exporter work against it unchanged.
 */
export const CREATE_OTEL_TRACES = `
CREATE TABLE IF NOT EXISTS ${TABLES.otelTraces} (
    Timestamp DateTime64(9) CODEC(Delta(8), ZSTD(1)),
    TraceId String CODEC(ZSTD(1)),
    SpanId String CODEC(ZSTD(1)),
    ParentSpanId String CODEC(ZSTD(1)),
    TraceState String CODEC(ZSTD(1)),
    SpanName LowCardinality(String) CODEC(ZSTD(1)),
    SpanKind LowCardinality(String) CODEC(ZSTD(1)),
    ServiceName LowCardinality(String) CODEC(ZSTD(1)),
    ResourceAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    ScopeName String CODEC(ZSTD(1)),
    ScopeVersion String CODEC(ZSTD(1)),
    SpanAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    Duration UInt64 CODEC(T64, ZSTD(1)),
    StatusCode LowCardinality(String) CODEC(ZSTD(1)),
    StatusMessage String CODEC(ZSTD(1)),
    Events Nested (Timestamp DateTime64(9), Name LowCardinality(String), Attributes Map(LowCardinality(String), String)) CODEC(ZSTD(1)),
    Links Nested (TraceId String, SpanId String, TraceState String, Attributes Map(LowCardinality(String), String)) CODEC(ZSTD(1)),
    ResourceAttributeItems Array(String) ALIAS arrayMap(kv -> concat(kv.1, '=', kv.2), CAST(ResourceAttributes, 'Array(Tuple(String, String))')),
    SpanAttributeItems Array(String) ALIAS arrayMap(kv -> concat(kv.1, '=', kv.2), CAST(SpanAttributes, 'Array(Tuple(String, String))')),
    INDEX idx_trace_id TraceId TYPE bloom_filter(0.001) GRANULARITY 1,
    INDEX idx_res_attr_key mapKeys(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_res_attr_value mapValues(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_span_attr_key mapKeys(SpanAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_span_attr_value mapValues(SpanAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_duration Duration TYPE minmax GRANULARITY 1,
    INDEX idx_lower_span_name lower(SpanName) TYPE tokenbf_v1(32768, 3, 0) GRANULARITY 8
) ENGINE = MergeTree()
PARTITION BY toDate(Timestamp)
PRIMARY KEY (ServiceName, SpanName, toDateTime(Timestamp))
ORDER BY (ServiceName, SpanName, toDateTime(Timestamp), Timestamp)
TTL toDateTime(Timestamp) + toIntervalDay(${TRACES_TTL_DAYS})
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1`;

export const CREATE_OTEL_TRACES_TRACE_ID_TS = `
CREATE TABLE IF NOT EXISTS ${TABLES.otelTracesTraceIdTs} (
    TraceId String CODEC(ZSTD(1)),
    Start SimpleAggregateFunction(min, DateTime) CODEC(ZSTD(1)),
    End SimpleAggregateFunction(max, DateTime) CODEC(ZSTD(1))
) ENGINE = AggregatingMergeTree()
PARTITION BY toStartOfWeek(Start)
ORDER BY (TraceId)
TTL toDateTime(Start) + toIntervalDay(${TRACES_TTL_DAYS})
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1`;

export const CREATE_OTEL_TRACES_TRACE_ID_TS_MV = `
CREATE MATERIALIZED VIEW IF NOT EXISTS ${TABLES.otelTracesTraceIdTsMv} TO ${TABLES.otelTracesTraceIdTs}
AS SELECT
    TraceId,
    min(Timestamp) as Start,
    max(Timestamp) as End
FROM ${TABLES.otelTraces}
WHERE TraceId != ''
GROUP BY TraceId`;

export const CREATE_ALERT_EVENTS = `
CREATE TABLE IF NOT EXISTS ${TABLES.alertEvents} (
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
CREATE TABLE IF NOT EXISTS ${TABLES.pipelineEvents} (
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

/**
 * How many recent insert blocks each table remembers for deduplication. A
 * re-sent block (same insert_deduplication_token, or same content when no
 * token is given) is skipped; with `deduplicate_blocks_in_dependent_materialized_views`
 * the rollup target remembers its derived blocks too, so a retried insert is
 * counted once by both the raw table and the rollup. Non-replicated MergeTree
 * dedups only when this window is set (ALTER ... MODIFY SETTING is metadata, not a mutation).
 */
export const DEDUP_WINDOW_BLOCKS = 10_000;

export const DEDUP_WINDOW_TABLES = [
  TABLES.toolCalls,
  TABLES.toolCalls1m,
  TABLES.otelTraces,
  TABLES.pipelineEvents,
] as const;

export function enableInsertDedup(table: string): string {
  return `ALTER TABLE ${table} MODIFY SETTING non_replicated_deduplication_window = ${DEDUP_WINDOW_BLOCKS}`;
}

/**
 * One row per stored batch and tenant: the chain (`seq`, `prev_digest`,
 * `digest`, hex SHA-256) and, in arrival order, each stored record's call id,
 * timestamp and 128-bit row digest (audit/row-digest.ts) over the columns of
 * schema version `columns_version`. `duplicates` counts the batch's lines that
 * dedup dropped (already stored, or repeated within the batch).
 */
export const CREATE_LEDGER = `
CREATE TABLE IF NOT EXISTS ${TABLES.ledger} (
    tenant_id LowCardinality(String),
    seq UInt64,
    ingested_at DateTime64(3, 'UTC') CODEC(Delta(8), ZSTD(1)),
    columns_version UInt16,
    prev_digest String,
    digest String,
    rows UInt32,
    duplicates UInt32,
    min_ts DateTime64(3, 'UTC'),
    max_ts DateTime64(3, 'UTC'),
    call_ids Array(UUID) CODEC(ZSTD(1)),
    row_ts Array(DateTime64(3, 'UTC')) CODEC(ZSTD(1)),
    row_digests Array(String) CODEC(ZSTD(1))
) ENGINE = MergeTree()
PARTITION BY toYYYYMM(ingested_at)
ORDER BY (tenant_id, seq)
TTL toDateTime(ingested_at) + INTERVAL ${LEDGER_TTL_DAYS} DAY
SETTINGS ttl_only_drop_parts = 1, non_replicated_deduplication_window = ${DEDUP_WINDOW_BLOCKS}`;

/**
 * The OpenTelemetry Collector ClickHouse exporter's metrics tables
 * (exporter/clickhouseexporter/internal/sqltemplates/metrics_*_table.sql, the
 * schema of contrib v0.160+: DateTime times, LowCardinality MetricName, an
 * hour-bucketed sort key), created without a TTL as the exporter does by
 * default; the configured retention is applied afterwards (retention.ts).
 * The shared head and indexes are written once here; a test holds the
 * result to the exporter's own DDL, column by column.
 */
const METRICS_HEAD = `
    ResourceAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    ResourceSchemaUrl String CODEC(ZSTD(1)),
    ScopeName String CODEC(ZSTD(1)),
    ScopeVersion String CODEC(ZSTD(1)),
    ScopeAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    ScopeDroppedAttrCount UInt32 CODEC(ZSTD(1)),
    ScopeSchemaUrl String CODEC(ZSTD(1)),
    ServiceName LowCardinality(String) CODEC(ZSTD(1)),
    MetricName LowCardinality(String) CODEC(ZSTD(1)),
    MetricDescription String CODEC(ZSTD(1)),
    MetricUnit String CODEC(ZSTD(1)),
    Attributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    StartTimeUnix DateTime CODEC(Delta, ZSTD(1)),
    TimeUnix DateTime CODEC(Delta, ZSTD(1)),`;

const METRICS_EXEMPLARS = `
    Exemplars Nested (
        FilteredAttributes Map(LowCardinality(String), String),
        TimeUnix DateTime,
        Value Float64,
        SpanId String,
        TraceId String
    ) CODEC(ZSTD(1)),`;

/** What both histogram types end with. */
const METRICS_HISTOGRAM_TAIL = `${METRICS_EXEMPLARS}
    Flags UInt32 CODEC(ZSTD(1)),
    Min Float64 CODEC(ZSTD(1)),
    Max Float64 CODEC(ZSTD(1)),
    AggregationTemporality Int32 CODEC(ZSTD(1)),`;

const METRICS_INDEXES = `
    INDEX idx_res_attr_key mapKeys(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_res_attr_value mapValues(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_scope_attr_key mapKeys(ScopeAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_scope_attr_value mapValues(ScopeAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_attr_key mapKeys(Attributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_attr_value mapValues(Attributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_time_minmax TimeUnix TYPE minmax GRANULARITY 1`;

function createOtelMetrics(table: string, columns: string): string {
  return `
CREATE TABLE IF NOT EXISTS ${table} (${METRICS_HEAD}${columns}${METRICS_INDEXES}
) ENGINE = MergeTree()
PARTITION BY toDate(TimeUnix)
ORDER BY (ServiceName, MetricName, toStartOfHour(TimeUnix), cityHash64(Attributes), TimeUnix)
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1`;
}

export const CREATE_OTEL_METRICS_GAUGE = createOtelMetrics(
  TABLES.otelMetricsGauge,
  `
    Value Float64 CODEC(ZSTD(1)),
    Flags UInt32 CODEC(ZSTD(1)),${METRICS_EXEMPLARS}`,
);

export const CREATE_OTEL_METRICS_SUM = createOtelMetrics(
  TABLES.otelMetricsSum,
  `
    Value Float64 CODEC(ZSTD(1)),
    Flags UInt32 CODEC(ZSTD(1)),${METRICS_EXEMPLARS}
    AggregationTemporality Int32 CODEC(ZSTD(1)),
    IsMonotonic Boolean CODEC(Delta, ZSTD(1)),`,
);

export const CREATE_OTEL_METRICS_HISTOGRAM = createOtelMetrics(
  TABLES.otelMetricsHistogram,
  `
    Count UInt64 CODEC(Delta, ZSTD(1)),
    Sum Float64 CODEC(ZSTD(1)),
    BucketCounts Array(UInt64) CODEC(ZSTD(1)),
    ExplicitBounds Array(Float64) CODEC(ZSTD(1)),${METRICS_HISTOGRAM_TAIL}`,
);

export const CREATE_OTEL_METRICS_EXPONENTIAL_HISTOGRAM = createOtelMetrics(
  TABLES.otelMetricsExponentialHistogram,
  `
    Count UInt64 CODEC(Delta, ZSTD(1)),
    Sum Float64 CODEC(ZSTD(1)),
    Scale Int32 CODEC(ZSTD(1)),
    ZeroCount UInt64 CODEC(ZSTD(1)),
    PositiveOffset Int32 CODEC(ZSTD(1)),
    PositiveBucketCounts Array(UInt64) CODEC(ZSTD(1)),
    NegativeOffset Int32 CODEC(ZSTD(1)),
    NegativeBucketCounts Array(UInt64) CODEC(ZSTD(1)),${METRICS_HISTOGRAM_TAIL}`,
);

export const CREATE_OTEL_METRICS_SUMMARY = createOtelMetrics(
  TABLES.otelMetricsSummary,
  `
    Count UInt64 CODEC(Delta, ZSTD(1)),
    Sum Float64 CODEC(ZSTD(1)),
    ValueAtQuantiles Nested(
        Quantile Float64,
        Value Float64
    ) CODEC(ZSTD(1)),
    Flags UInt32 CODEC(ZSTD(1)),`,
);

export const OTEL_METRICS_TABLES = [
  TABLES.otelMetricsGauge,
  TABLES.otelMetricsSum,
  TABLES.otelMetricsHistogram,
  TABLES.otelMetricsExponentialHistogram,
  TABLES.otelMetricsSummary,
] as const;

/**
 * The exporter's full-text variant of the otel_traces indexes (ClickHouse >=
 * 26.2: `text(tokenizer = 'array')` on TraceId, map keys and the key=value
 * item arrays instead of bloom filters), reached from migration 1's table by
 * ALTERs that leave the indexes in the template's order. Idempotent: a rerun
 * after a crash drops and re-adds what it finds.
 */
export const OTEL_TRACES_TEXT_INDEXES: readonly string[] = [
  ...['idx_trace_id', 'idx_res_attr_key', 'idx_res_attr_value', 'idx_span_attr_key', 'idx_span_attr_value'].map(
    (name) => `ALTER TABLE ${TABLES.otelTraces} DROP INDEX IF EXISTS ${name}`,
  ),
  ...(
    [
      ['idx_trace_id', 'TraceId', 'FIRST'],
      ['idx_res_attr_key', 'mapKeys(ResourceAttributes)', 'AFTER idx_trace_id'],
      ['idx_res_attr_items', 'ResourceAttributeItems', 'AFTER idx_res_attr_key'],
      ['idx_span_attr_key', 'mapKeys(SpanAttributes)', 'AFTER idx_res_attr_items'],
      ['idx_span_attr_items', 'SpanAttributeItems', 'AFTER idx_span_attr_key'],
    ] as const
  ).flatMap(([name, expr, position]) => [
    `ALTER TABLE ${TABLES.otelTraces} ADD INDEX IF NOT EXISTS ${name} ${expr} TYPE text(tokenizer = 'array') ${position}`,
    // Parts written before the ALTER get the index too (a background mutation).
    `ALTER TABLE ${TABLES.otelTraces} MATERIALIZE INDEX ${name}`,
  ]),
];

/** The exporter uses text indexes from ClickHouse 26.2 on; `version` is `SELECT version()`. */
export function supportsTextIndexes(version: string): boolean {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  return major > 26 || (major === 26 && minor >= 2);
}
