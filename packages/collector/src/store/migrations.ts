/**
 * Versioned schema migrations. Each is a list of idempotent statements (IF
 * NOT EXISTS), applied in order and recorded in `schema_migrations`, so
 * `migrate()` can run on every start and after a crash halfway through. A
 * migration whose statements depend on the engine (its version) computes
 * them when it runs. After the migrations, the configured retention (table
 * TTLs) is applied.
 */
import { applyRetention, retentionFromEnv, type Retention, type RetentionChange } from './retention.js';
import {
  CREATE_ALERT_EVENTS,
  CREATE_DATABASE,
  CREATE_LEDGER,
  CREATE_OTEL_METRICS_EXPONENTIAL_HISTOGRAM,
  CREATE_OTEL_METRICS_GAUGE,
  CREATE_OTEL_METRICS_HISTOGRAM,
  CREATE_OTEL_METRICS_SUM,
  CREATE_OTEL_METRICS_SUMMARY,
  CREATE_OTEL_TRACES,
  OTEL_METRICS_TABLES,
  OTEL_TRACES_TEXT_INDEXES,
  supportsTextIndexes,
  CREATE_PIPELINE_EVENTS,
  CREATE_OTEL_TRACES_TRACE_ID_TS,
  CREATE_OTEL_TRACES_TRACE_ID_TS_MV,
  CREATE_SCHEMA_MIGRATIONS,
  CREATE_TOOL_CALLS_1M,
  CREATE_TOOL_CALLS_1M_MV,
  DEDUP_WINDOW_TABLES,
  TABLES,
  addToolCallsColumns,
  TOOL_CALLS_INTENT_INDEX,
  createToolCalls,
  enableInsertDedup,
} from './schema.js';
import type { Store } from './types.js';

export interface Migration {
  version: number;
  name: string;
  /** The statements, or a function of the store that computes them (e.g. from `version()`). */
  statements: readonly string[] | ((store: Store) => Promise<readonly string[]>);
}

export interface MigrateOptions {
  /** Table TTLs of spans and metric points. Default: env MCPTRAIL_TRACES_TTL_DAYS / MCPTRAIL_METRICS_TTL_DAYS, else 30 days each. */
  retention?: Retention;
}

export interface AppliedMigration {
  version: number;
  name: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'tool_calls, tool_calls_1m rollup, otel_traces',
    statements: [
      createToolCalls(),
      CREATE_TOOL_CALLS_1M,
      // The rollup view after its target table and before any traffic: views never backfill.
      CREATE_TOOL_CALLS_1M_MV,
      CREATE_OTEL_TRACES,
      CREATE_OTEL_TRACES_TRACE_ID_TS,
      CREATE_OTEL_TRACES_TRACE_ID_TS_MV,
    ],
  },
  {
    version: 2,
    name: 'alert_events, pipeline_events',
    statements: [CREATE_ALERT_EVENTS, CREATE_PIPELINE_EVENTS],
  },
  {
    version: 3,
    name: 'insert deduplication window on tool_calls, tool_calls_1m, otel_traces, pipeline_events',
    statements: DEDUP_WINDOW_TABLES.map(enableInsertDedup),
  },
  {
    version: 4,
    name: 'tool_calls.calls_in_request (edge refusals: one record per request, counting its calls)',
    statements: addToolCallsColumns(4),
  },
  {
    version: 5,
    name: 'otel_metrics_* tables (the exporter schema); otel_traces text indexes where the engine has them',
    statements: async (store) => [
      CREATE_OTEL_METRICS_GAUGE,
      CREATE_OTEL_METRICS_SUM,
      CREATE_OTEL_METRICS_HISTOGRAM,
      CREATE_OTEL_METRICS_EXPONENTIAL_HISTOGRAM,
      CREATE_OTEL_METRICS_SUMMARY,
      ...OTEL_METRICS_TABLES.map(enableInsertDedup),
      // As the exporter decides at table creation: text indexes from ClickHouse 26.2 on, bloom filters before.
      ...(supportsTextIndexes(await engineVersion(store)) ? OTEL_TRACES_TEXT_INDEXES : []),
    ],
  },
  {
    version: 6,
    name: 'ledger: per-tenant digest chain of stored tool_calls batches',
    statements: [CREATE_LEDGER],
  },
  {
    version: 7,
    name: 'tool_calls: protocol_version, client_name/version, mcp_method, record_kind, task_id, logical_call_id, round, input summaries (MCP 2026-07-28)',
    statements: addToolCallsColumns(7),
  },
  {
    version: 8,
    name: 'tool_calls.intent (the agent\'s stated intent, masked) and its n-gram index for `--intent` / `intent=` search',
    statements: [...addToolCallsColumns(8), ...TOOL_CALLS_INTENT_INDEX],
  },
];

/** `SELECT version()` of the engine behind the store (the embedded one or a server). */
export async function engineVersion(store: Store): Promise<string> {
  const [row] = await store.query<{ v: string }>('SELECT version() AS v');
  return row?.v ?? '';
}

/** Applies the pending migrations in version order, then the retention; returns the migrations it applied (empty when up to date). */
export async function migrate(store: Store, migrations: readonly Migration[] = MIGRATIONS, options: MigrateOptions = {}): Promise<AppliedMigration[]> {
  return (await migrateWithRetention(store, migrations, options)).applied;
}

/** `migrate`, also reporting the table TTLs it changed. */
export async function migrateWithRetention(
  store: Store,
  migrations: readonly Migration[] = MIGRATIONS,
  options: MigrateOptions = {},
): Promise<{ applied: AppliedMigration[]; retention: RetentionChange[] }> {
  await store.exec(CREATE_DATABASE);
  await store.exec(CREATE_SCHEMA_MIGRATIONS);
  const done = new Set((await appliedVersions(store)).map((m) => m.version));
  const applied: AppliedMigration[] = [];
  for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
    if (done.has(m.version)) continue;
    const statements = typeof m.statements === 'function' ? await m.statements(store) : m.statements;
    for (const statement of statements) await store.exec(statement);
    await store.insertNDJSON(TABLES.schemaMigrations, JSON.stringify({ version: m.version, name: m.name }) + '\n');
    applied.push({ version: m.version, name: m.name });
  }
  const retention = await applyRetention(store, options.retention ?? retentionFromEnv());
  return { applied, retention };
}

/** The migrations recorded as applied, oldest first. */
export async function appliedVersions(store: Store): Promise<AppliedMigration[]> {
  const rows = await store.query<{ version: number; name: string }>(
    `SELECT version, any(name) AS name FROM ${TABLES.schemaMigrations} GROUP BY version ORDER BY version`,
  );
  return rows.map((r) => ({ version: Number(r.version), name: r.name }));
}
