/** Numbers and times as the panels show them, by Grafana unit id. */

const compact = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 });
const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

export function formatValue(value: unknown, unit: string): string {
  if (value === null || value === undefined || value === '') return '–';
  if (typeof value !== 'number') return String(value);
  if (!Number.isFinite(value)) return '–';
  switch (unit) {
    case 'percentunit':
      return `${compact.format(value * 100)} %`;
    case 'reqps':
      return `${compact.format(value)} /s`;
    case 'ms':
      return value >= 1000 ? `${compact.format(value / 1000)} s` : `${compact.format(value)} ms`;
    default:
      return Number.isInteger(value) ? integer.format(value) : compact.format(value);
  }
}

/** A table cell: ratios by column name, everything else as it comes. */
export function formatCell(column: string, value: unknown): string {
  if (typeof value === 'number' && /(_rate|share)$/.test(column)) return formatValue(value, 'percentunit');
  if (typeof value === 'string' && /^\d{4}-\d\d-\d\dT/.test(value)) return formatTime(value);
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  return formatValue(value, 'short');
}

/** UTC, like the Grafana dashboards (timezone utc). */
export function formatTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.toISOString().slice(0, 10)} ${d.toISOString().slice(11, 23)}`;
}

export const columnLabel = (c: string) => c.replace(/_/g, ' ');
