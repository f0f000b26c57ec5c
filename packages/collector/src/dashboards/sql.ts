/** SQL fragments the dashboards share: table names, filters, outcome classes. */
import { OUTCOMES } from 'mcptrail/record';
import { TABLES } from '../store/schema.js';

export { TABLES };

/**
 * Outcomes that are not failures: a clean answer, a round that asked the
 * client for input (its logical call goes on in the next round), and a task
 * its caller chose to cancel.
 */
const NOT_FAILURES: ReadonlySet<string> = new Set(['ok', 'input_required', 'cancelled']);

/** Everything else: the dashboards' "errors". */
export const FAILURE_OUTCOMES = OUTCOMES.filter((o) => !NOT_FAILURES.has(o));

export const quoted = (values: readonly string[]) => values.map((v) => `'${v}'`).join(', ');

/** `$__conditionalAll(col IN (${var:singlequote}), $var)`: the filter disappears when "All" is selected. */
export const varFilter = (column: string, variable: string) =>
  `$__conditionalAll(${column} IN (\${${variable}:singlequote}), $${variable})`;

export const filters = (...parts: string[]) => parts.map((p) => `\n  AND ${p}`).join('');

/** Percentiles from the rollup's t-digest states. */
export const PERCENTILES = 'quantilesTDigestMerge(0.5, 0.95, 0.99)(duration_ms_quantiles)';

/** p50/p95/p99 per tool per interval from the rollup, under a dashboard's WHERE clause. */
export const latencyPerToolSql = (where: string) => `SELECT time, tool, q[1] AS p50, q[2] AS p95, q[3] AS p99
FROM (
  SELECT $__timeInterval(minute) AS time, tool, ${PERCENTILES} AS q
  FROM ${TABLES.toolCalls1m}
  ${where}
  GROUP BY time, tool
)
ORDER BY time`;
