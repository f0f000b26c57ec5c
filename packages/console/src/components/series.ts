/**
 * Grafana's long-to-wide conversion for time-series panels: the `time`
 * column, string columns as labels, numeric columns as values; one series per
 * label set and value column.
 */

export interface Series {
  name: string;
  values: (number | null)[];
}

export interface Wide {
  /** Epoch seconds, ascending. */
  times: number[];
  series: Series[];
}

export function toWide(columns: string[], rows: unknown[][]): Wide {
  const timeIndex = columns.indexOf('time');
  if (timeIndex === -1 || rows.length === 0) return { times: [], series: [] };
  const labelIdx: number[] = [];
  const valueIdx: number[] = [];
  columns.forEach((c, i) => {
    if (i === timeIndex) return;
    const sample = rows.find((r) => r[i] !== null && r[i] !== undefined)?.[i];
    (typeof sample === 'string' ? labelIdx : valueIdx).push(i);
  });
  const times = [...new Set(rows.map((r) => Date.parse(String(r[timeIndex])) / 1000))].sort((a, b) => a - b);
  const slot = new Map(times.map((t, i) => [t, i]));
  const byName = new Map<string, Series>();
  for (const row of rows) {
    const at = slot.get(Date.parse(String(row[timeIndex])) / 1000)!;
    const labels = labelIdx.map((i) => String(row[i]));
    for (const v of valueIdx) {
      const name = [...labels, ...(labels.length === 0 || valueIdx.length > 1 ? [columns[v]!] : [])].join(' ');
      let series = byName.get(name);
      if (!series) {
        series = { name, values: new Array<number | null>(times.length).fill(null) };
        byName.set(name, series);
      }
      const value = row[v];
      series.values[at] = typeof value === 'number' && Number.isFinite(value) ? value : null;
    }
  }
  const series = [...byName.values()].sort((a, b) => a.name.localeCompare(b.name));
  return { times, series };
}

/** The newest non-null value of a series. */
export function latest(series: Series): number | null {
  for (let i = series.values.length - 1; i >= 0; i--) if (series.values[i] !== null) return series.values[i]!;
  return null;
}
