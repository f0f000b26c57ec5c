/**
 * Settings every connection runs with, so both drivers read and write the same
 * text: ISO timestamps in (any reasonable form) and out (UTC, `...Z`), and
 * 64-bit integers as plain JSON numbers.
 */
export const SESSION_SETTINGS = {
  date_time_input_format: 'best_effort',
  date_time_output_format: 'iso',
  output_format_json_quote_64bit_integers: 0,
} as const;

/** Settings for every JSONEachRow insert. */
export const INSERT_SETTINGS = {
  date_time_input_format: 'best_effort',
  // A deduplicated block (retry, re-sent batch) must not reach the rollup views a second time.
  deduplicate_blocks_in_dependent_materialized_views: 1,
} as const;

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$/;

/** Table names are code, not input; refuse anything that is not a plain (db.)identifier. */
export function assertTableName(table: string): string {
  if (!IDENTIFIER.test(table)) throw new TypeError(`invalid table name: ${JSON.stringify(table)}`);
  return table;
}

/** Setting names are identifiers too (they appear in SET statements). */
export function assertSettingName(name: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new TypeError(`invalid setting name: ${JSON.stringify(name)}`);
  return name;
}

/** The per-insert settings for a content-derived dedup token, if any. */
export function dedupSettings(opts: { dedupToken?: string } | undefined): { insert_deduplication_token?: string } {
  return opts?.dedupToken ? { insert_deduplication_token: opts.dedupToken } : {};
}
