/**
 * Rebuilds the minutes of the `tool_calls_1m` rollup that disagree with
 * `tool_calls`.
 *
 * The rollup is a materialized view, written by the same INSERT as
 * `tool_calls` but as a part of its own. When the process that runs the
 * embedded engine dies between the two (a SIGKILL during an insert), the rows
 * are stored and the rollup misses them; the shipper's re-send is then found
 * by dedup and skipped, so nothing would ever add them. The rollup feeds the
 * dashboards, the console and the alert rules, so after a crash it is
 * compared with the rows, minute by minute, and each minute that disagrees is
 * aggregated again from the rows (each call once, as the view would have).
 */
import { TABLES, toolCalls1mSelect } from './schema.js';
import type { Store } from './types.js';

export interface RollupRepair {
  /** Minutes compared (with rows or rollup entries). */
  minutesChecked: number;
  /** Minutes whose rollup was rebuilt. */
  minutesRebuilt: number;
}

const MINUTE_MS = 60_000;
/** Minutes per rebuild statement: their epoch seconds are inlined (integers only). */
const MINUTES_PER_STATEMENT = 500;

const COMPARE_SQL = `
SELECT toUnixTimestamp(minute) AS minute, max(rows_n != rollup_n) AS differs
FROM (
  SELECT minute, tenant_id, tool, outcome, r.n AS rows_n, a.n AS rollup_n
  FROM (
    SELECT toStartOfMinute(toDateTime(ts, 'UTC')) AS minute, tenant_id, tool, outcome, toUInt64(uniqExact(call_id)) AS n
    FROM ${TABLES.toolCalls}
    WHERE ts >= fromUnixTimestamp64Milli({since:Int64})
    GROUP BY minute, tenant_id, tool, outcome
  ) AS r
  FULL OUTER JOIN (
    SELECT minute, tenant_id, tool, outcome, toUInt64(sum(calls)) AS n
    FROM ${TABLES.toolCalls1m}
    WHERE minute >= toDateTime(intDiv({since:Int64}, 1000), 'UTC')
    GROUP BY minute, tenant_id, tool, outcome
  ) AS a USING (minute, tenant_id, tool, outcome)
)
GROUP BY minute
SETTINGS join_use_nulls = 0`;

/** Compares the rollup with the rows from `sinceMs` (rounded down to its minute) on, and rebuilds the minutes that differ. */
export async function repairRollup(store: Store, opts: { sinceMs: number }): Promise<RollupRepair> {
  const since = Math.floor(opts.sinceMs / MINUTE_MS) * MINUTE_MS;
  const minutes = await store.query<{ minute: number | string; differs: number | string }>(COMPARE_SQL, { since });
  const differing = minutes.filter((m) => Number(m.differs) === 1).map((m) => Number(m.minute));
  for (let i = 0; i < differing.length; i += MINUTES_PER_STATEMENT) {
    await rebuildMinutes(store, differing.slice(i, i + MINUTES_PER_STATEMENT));
  }
  return { minutesChecked: minutes.length, minutesRebuilt: differing.length };
}

async function rebuildMinutes(store: Store, minutes: number[]): Promise<void> {
  if (!minutes.every(Number.isSafeInteger)) throw new Error('rollup repair: minute is not an integer');
  const list = minutes.join(', ');
  const first = Math.min(...minutes);
  const last = Math.max(...minutes) + 60;
  await store.exec(`ALTER TABLE ${TABLES.toolCalls1m} DELETE WHERE toUnixTimestamp(minute) IN (${list}) SETTINGS mutations_sync = 2`);
  // Each call once (a re-sent row the dedup missed is not counted twice); insert_deduplicate = 0, since
  // the rebuilt block may equal one the table saw before the delete, and would be dropped as a retry.
  const rows = `(
    SELECT * FROM ${TABLES.toolCalls}
    WHERE ts >= toDateTime(${first}, 'UTC') AND ts < toDateTime(${last}, 'UTC')
      AND toUnixTimestamp(toStartOfMinute(toDateTime(ts, 'UTC'))) IN (${list})
    LIMIT 1 BY call_id
  )`;
  await store.exec(`INSERT INTO ${TABLES.toolCalls1m} SETTINGS insert_deduplicate = 0 ${toolCalls1mSelect(rows)}`);
}
