/**
 * Versioned schema migrations. Each is a list of idempotent statements (IF
 * NOT EXISTS), applied in order and recorded in `schema_migrations`, so
 * `migrate()` can run on every start and after a crash halfway through.
 */
import {
  CREATE_ALERT_EVENTS,
  CREATE_DATABASE,
  CREATE_OTEL_TRACES,
  CREATE_PIPELINE_EVENTS,
  CREATE_OTEL_TRACES_TRACE_ID_TS,
  CREATE_OTEL_TRACES_TRACE_ID_TS_MV,
  CREATE_SCHEMA_MIGRATIONS,
  CREATE_TOOL_CALLS_1M,
  CREATE_TOOL_CALLS_1M_MV,
  DEDUP_WINDOW_TABLES,
  TABLES,
  addToolCallsColumns,
  createToolCalls,
  enableInsertDedup,
} from './schema.js';
import type { Store } from './types.js';

export interface Migration {
  version: number;
  name: string;
  statements: readonly string[];
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
];

/** Applies the pending migrations in version order; returns what it applied (empty when up to date). */
export async function migrate(store: Store, migrations: readonly Migration[] = MIGRATIONS): Promise<AppliedMigration[]> {
  await store.exec(CREATE_DATABASE);
  await store.exec(CREATE_SCHEMA_MIGRATIONS);
  const done = new Set((await appliedVersions(store)).map((m) => m.version));
  const applied: AppliedMigration[] = [];
  for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
    if (done.has(m.version)) continue;
    for (const statement of m.statements) await store.exec(statement);
    await store.insertNDJSON(TABLES.schemaMigrations, JSON.stringify({ version: m.version, name: m.name }) + '\n');
    applied.push({ version: m.version, name: m.name });
  }
  return applied;
}

/** The migrations recorded as applied, oldest first. */
export async function appliedVersions(store: Store): Promise<AppliedMigration[]> {
  const rows = await store.query<{ version: number; name: string }>(
    `SELECT version, any(name) AS name FROM ${TABLES.schemaMigrations} GROUP BY version ORDER BY version`,
  );
  return rows.map((r) => ({ version: Number(r.version), name: r.name }));
}
