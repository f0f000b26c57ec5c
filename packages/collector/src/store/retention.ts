/**
 * How long spans and metric points are kept: a table TTL (whole day
 * partitions dropped, `ttl_only_drop_parts`). The exporter's default is no
 * TTL; ours stays 30 days for both, so the embedded default cannot fill a
 * disk. 0 means no TTL. Applied after the migrations on every start by
 * comparing each table's TTL with the configured one and altering only the
 * tables that differ, so it is idempotent, safe to rerun after a crash, and
 * a changed setting takes effect on the next `mcptrail up` or `migrate`.
 */
import { DATABASE, OTEL_METRICS_TABLES, TABLES, TRACES_TTL_DAYS } from './schema.js';
import type { Store } from './types.js';

export interface Retention {
  /** Days of spans in otel_traces (and its trace-id lookup table); 0 = keep forever. */
  tracesTtlDays: number;
  /** Days of points in the otel_metrics_* tables; 0 = keep forever. */
  metricsTtlDays: number;
}

export const DEFAULT_RETENTION: Retention = { tracesTtlDays: TRACES_TTL_DAYS, metricsTtlDays: 30 };

/** The time each table's TTL counts from, as the exporter writes it. */
const TTL_COLUMN: Record<string, string> = {
  [TABLES.otelTraces]: 'toDateTime(Timestamp)',
  [TABLES.otelTracesTraceIdTs]: 'toDateTime(Start)',
  ...Object.fromEntries(OTEL_METRICS_TABLES.map((t) => [t, 'toDateTime(TimeUnix)'])),
};

/** A TTL in days from a flag or environment value; throws a message fit for the command line. */
export function parseTtlDays(value: string, name: string): number {
  const n = Number(value.trim());
  if (value.trim() === '' || !Number.isInteger(n) || n < 0 || n > 36_500) throw new RangeError(`${name} must be a whole number of days from 0 (no TTL) to 36500`);
  return n;
}

/** MCPTRAIL_TRACES_TTL_DAYS and MCPTRAIL_METRICS_TTL_DAYS over the defaults. */
export function retentionFromEnv(env: NodeJS.ProcessEnv = process.env): Retention {
  const read = (name: string, fallback: number) => (env[name]?.trim() ? parseTtlDays(env[name]!, name) : fallback);
  return {
    tracesTtlDays: read('MCPTRAIL_TRACES_TTL_DAYS', DEFAULT_RETENTION.tracesTtlDays),
    metricsTtlDays: read('MCPTRAIL_METRICS_TTL_DAYS', DEFAULT_RETENTION.metricsTtlDays),
  };
}

export interface RetentionChange {
  table: string;
  fromDays: number;
  toDays: number;
}

/** Brings each existing telemetry table's TTL to `retention`; returns what it changed. */
export async function applyRetention(store: Store, retention: Retention): Promise<RetentionChange[]> {
  const wanted = new Map<string, number>([
    [TABLES.otelTraces, retention.tracesTtlDays],
    [TABLES.otelTracesTraceIdTs, retention.tracesTtlDays],
    ...OTEL_METRICS_TABLES.map((t) => [t, retention.metricsTtlDays] as [string, number]),
  ]);
  const rows = await store.query<{ name: string; engine_full: string }>(
    `SELECT name, engine_full FROM system.tables WHERE database = {db:String} AND name IN {names:Array(String)}`,
    { db: DATABASE, names: [...wanted.keys()].map((t) => t.slice(DATABASE.length + 1)) },
  );
  const changes: RetentionChange[] = [];
  for (const row of rows) {
    const table = `${DATABASE}.${row.name}`;
    const toDays = wanted.get(table)!;
    const fromDays = ttlDaysOf(row.engine_full);
    if (fromDays === toDays) continue;
    await store.exec(
      toDays === 0 ? `ALTER TABLE ${table} REMOVE TTL` : `ALTER TABLE ${table} MODIFY TTL ${TTL_COLUMN[table]} + toIntervalDay(${toDays})`,
    );
    changes.push({ table, fromDays, toDays });
  }
  return changes;
}

/** The days of a table TTL as system.tables.engine_full shows it (`TTL toDateTime(x) + toIntervalDay(30)`); 0 without one. */
export function ttlDaysOf(engineFull: string): number {
  const ttl = /\bTTL\s+(.*?)(?:\s+SETTINGS\s|$)/s.exec(engineFull)?.[1];
  if (!ttl) return 0;
  const days = /toIntervalDay\((\d+)\)/.exec(ttl) ?? /INTERVAL\s+(\d+)\s+DAY/i.exec(ttl);
  // A TTL we did not write (hours, another column): report it as unknown (-1) so it is rewritten.
  return days ? Number(days[1]) : -1;
}
