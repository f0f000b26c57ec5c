/** Durations like `30s`, `15m`, `1h`, `7d`, as the CLI and API accept them. */
const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86_400 } as const;
export const SINCE_PATTERN = /^(\d{1,7})([smhd])$/;
/** Audit reads look back at most this far: bounds what one API request can make the store scan. */
export const MAX_SINCE_SECONDS = 31 * 86_400;

/** `'1h'` → 3600. Throws a RangeError naming the accepted forms otherwise. */
export function parseSince(since: string): number {
  const match = SINCE_PATTERN.exec(since);
  if (!match) throw new RangeError(`since must be a duration like 30s, 15m, 1h or 7d (got ${JSON.stringify(since)})`);
  const seconds = Number(match[1]) * UNIT_SECONDS[match[2] as keyof typeof UNIT_SECONDS];
  if (seconds <= 0 || seconds > MAX_SINCE_SECONDS) throw new RangeError(`since must be between 1s and ${MAX_SINCE_SECONDS / 86_400}d`);
  return seconds;
}
