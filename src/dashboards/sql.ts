/** SQL fragments the dashboards share: table names, filters, outcome classes. */
import { OUTCOMES } from '../record/schema.js';
import { TABLES } from '../store/schema.js';

export { TABLES };

/** Everything that is not a clean answer: the dashboards' "errors". */
export const FAILURE_OUTCOMES = OUTCOMES.filter((o) => o !== 'ok');

export const quoted = (values: readonly string[]) => values.map((v) => `'${v}'`).join(', ');

/** `$__conditionalAll(col IN (${var:singlequote}), $var)`: the filter disappears when "All" is selected. */
export const varFilter = (column: string, variable: string) =>
  `$__conditionalAll(${column} IN (\${${variable}:singlequote}), $${variable})`;

export const filters = (...parts: string[]) => parts.map((p) => `\n  AND ${p}`).join('');

/** Percentiles from the rollup's t-digest states. */
export const PERCENTILES = 'quantilesTDigestMerge(0.5, 0.95, 0.99)(duration_ms_quantiles)';
