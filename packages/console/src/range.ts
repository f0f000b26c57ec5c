/**
 * The time range, as it travels in page URLs and API requests: `since=6h`
 * (relative to now; the presets below), or `from` and `to` in epoch ms (a
 * fixed window, e.g. after selecting on a chart).
 */

export const RANGE_PRESETS = [
  { since: '15m', label: 'Last 15 minutes' },
  { since: '1h', label: 'Last hour' },
  { since: '6h', label: 'Last 6 hours' },
  { since: '24h', label: 'Last 24 hours' },
  { since: '7d', label: 'Last 7 days' },
  { since: '30d', label: 'Last 30 days' },
] as const;

export const REFRESH_OPTIONS = [
  { value: 'off', label: 'Off', ms: 0 },
  { value: '10s', label: '10 s', ms: 10_000 },
  { value: '30s', label: '30 s', ms: 30_000 },
  { value: '1m', label: '1 min', ms: 60_000 },
  { value: '5m', label: '5 min', ms: 300_000 },
] as const;

export type Range = { since: string } | { from: number; to: number };

export function rangeOf(search: URLSearchParams, fallbackSince: string): Range {
  const from = Number(search.get('from'));
  const to = Number(search.get('to'));
  if (search.has('from') && search.has('to') && Number.isFinite(from) && Number.isFinite(to) && from < to) return { from, to };
  return { since: search.get('since') || fallbackSince };
}

export function rangeParams(range: Range): Array<[string, string]> {
  return 'since' in range
    ? [['since', range.since]]
    : [
        ['from', String(range.from)],
        ['to', String(range.to)],
      ];
}

export function refreshMs(value: string | null): number {
  return REFRESH_OPTIONS.find((o) => o.value === value)?.ms ?? 0;
}
