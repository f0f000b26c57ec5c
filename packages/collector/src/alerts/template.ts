/**
 * The small subset of Grafana's annotation templating the rules use:
 * `{{ $labels.name }}`, `{{ $values.B.Value }}`, `{{ $value }}`, optionally
 * through `humanizePercentage` or `humanize`. Unknown expressions render as
 * they are, so a typo shows up in the notification instead of vanishing.
 */
import type { Labels } from './labels.js';

export interface TemplateData {
  labels: Labels;
  value: number;
}

const EXPR = /\{\{\s*(?:(humanizePercentage|humanize)\s+)?(\$labels\.\w+|\$values\.B\.Value|\$value)\s*\}\}/g;

export function renderTemplate(template: string, data: TemplateData): string {
  return template.replace(EXPR, (match, fn: string | undefined, ref: string) => {
    if (ref.startsWith('$labels.')) {
      const v = data.labels[ref.slice('$labels.'.length)];
      return v ?? '<no value>';
    }
    if (fn === 'humanizePercentage') return `${formatNumber(data.value * 100)}%`;
    return formatNumber(data.value);
  });
}

/** Prometheus' humanize for our ranges: at most four significant digits, no exponent. */
function formatNumber(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (Number.isInteger(n)) return String(n);
  return String(Number(n.toPrecision(4)));
}
