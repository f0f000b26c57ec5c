import { useMemo } from 'preact/hooks';
import { getJson, qs, type PanelData, type PanelInfo } from '../api.js';
import { useData } from '../hooks.js';
import { rangeParams, type Range } from '../range.js';
import { DataTable } from './DataTable.js';
import { TimeSeriesChart } from './TimeSeriesChart.js';
import { toWide } from './series.js';
import { ErrorNote } from './ErrorNote.js';

interface Props {
  dashboard: string;
  panel: PanelInfo;
  range: Range;
  /** Variable selection, e.g. [['tenant', 'acme']]. */
  vars: Array<[string, string]>;
  refreshMs: number;
  onSelect?: (fromMs: number, toMs: number) => void;
  callsFilter?: Array<[string, string]>;
}

/**
 * One panel of a dashboard definition, read through `GET /api/panels/…`.
 * `data-state` (loading, ready, empty, error) lets tests and the benchmark
 * wait for the page to be drawn.
 */
export function Panel({ dashboard, panel, range, vars, refreshMs, onSelect, callsFilter }: Props) {
  const url = `/api/panels/${dashboard}/${panel.id}${qs([...rangeParams(range), ...vars])}`;
  const { data, error } = useData(url, (signal) => getJson<PanelData>(url, signal), refreshMs);
  const wide = useMemo(() => (data && data.kind === 'timeseries' ? toWide(data.columns, data.rows) : undefined), [data]);
  const state = data ? (data.rows.length > 0 ? 'ready' : 'empty') : error ? 'error' : 'loading';
  const titleId = `panel-${dashboard}-${panel.id}`;
  return (
    <section
      class={`panel ${panel.width >= 24 ? 'wide' : ''}`}
      data-panel={panel.id}
      data-state={state}
      aria-labelledby={titleId}
      aria-busy={state === 'loading'}
    >
      <h2 id={titleId}>{panel.title}</h2>
      {panel.description && <p class="desc">{panel.description}</p>}
      {state === 'loading' && <p class="muted">Loading…</p>}
      {error && !data && <ErrorNote error={error} />}
      {state === 'empty' && <p class="muted">No data in this range.</p>}
      {state === 'ready' && data && wide && (
        <TimeSeriesChart title={panel.title} unit={panel.unit} wide={wide} fromMs={Date.parse(data.from)} toMs={Date.parse(data.to)} onSelect={onSelect} />
      )}
      {state === 'ready' && data && !wide && (
        <DataTable caption={panel.title} columns={data.columns} rows={data.rows} range={range} callsFilter={callsFilter} />
      )}
    </section>
  );
}
