import type { ComponentChildren } from 'preact';
import { getJson, type DashboardInfo } from '../api.js';
import { useData, useSearch, useUpdateSearch } from '../hooks.js';
import { rangeOf, refreshMs, type Range } from '../range.js';
import { ErrorNote } from './ErrorNote.js';
import { Panel } from './Panel.js';

export interface DashboardView {
  def: DashboardInfo;
  range: Range;
  refreshMs: number;
}

/** Loads a dashboard definition (`GET /api/dashboards/:id`), then hands the page its range and refresh. */
export function WithDashboard({ id, children }: { id: string; children: (view: DashboardView) => ComponentChildren }) {
  const url = `/api/dashboards/${id}`;
  const { data: def, error } = useData(url, (signal) => getJson<DashboardInfo>(url, signal));
  const search = useSearch();
  if (error) return <ErrorNote error={error} />;
  if (!def)
    return (
      <p class="muted" data-state="loading">
        Loading…
      </p>
    );
  const range = rangeOf(search, def.defaultSince);
  return <>{children({ def, range, refreshMs: refreshMs(search.get('refresh') ?? def.refresh ?? 'off') })}</>;
}

interface GridProps extends DashboardView {
  vars: Array<[string, string]>;
  callsFilter?: Array<[string, string]>;
}

/** The dashboard's panels this reader may read, in the definition's order. */
export function PanelGrid({ def, range, refreshMs, vars, callsFilter }: GridProps) {
  const update = useUpdateSearch();
  const zoom = (from: number, to: number) => update({ since: undefined, from: String(from), to: String(to) });
  return (
    <div class="grid">
      {def.panels
        .filter((p) => p.readable)
        .map((p) => (
          <Panel key={p.id} dashboard={def.id} panel={p} range={range} vars={vars} refreshMs={refreshMs} onSelect={zoom} callsFilter={callsFilter} />
        ))}
    </div>
  );
}
