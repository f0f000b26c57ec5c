/**
 * Points in time as the export and verify commands take them: an ISO 8601
 * date or timestamp (`2026-11-20`, `2026-11-20T08:00:00Z`), or a duration
 * back from now (`90m`, `24h`, `7d`).
 */
const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const DURATION = /^(\d{1,6})([smhd])$/;
/** A date alone, or a timestamp with a zone (a zone-less time would depend on the machine's). */
const ISO = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2}))?$/;

/** Epoch milliseconds; throws a RangeError naming the accepted forms. */
export function parseInstant(value: string, nowMs = Date.now()): number {
  const d = DURATION.exec(value);
  if (d) return nowMs - Number(d[1]) * UNIT_MS[d[2] as keyof typeof UNIT_MS];
  if (ISO.test(value)) {
    const ms = Date.parse(value.length === 10 ? `${value}T00:00:00Z` : value);
    if (Number.isFinite(ms)) return ms;
  }
  throw new RangeError(`expected an ISO 8601 time with a zone (2026-11-20T08:00:00Z), a date (2026-11-20) or a duration back from now (90m, 24h, 7d); got ${JSON.stringify(value)}`);
}
