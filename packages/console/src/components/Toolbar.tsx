import { useState } from 'preact/hooks';
import { Field } from './Field.js';
import type { ComponentChildren } from 'preact';
import { getJson, qs } from '../api.js';
import { useData, useSearch, useUpdateSearch } from '../hooks.js';
import { RANGE_PRESETS, REFRESH_OPTIONS, rangeOf, rangeParams } from '../range.js';
import { formatTime } from '../format.js';

interface ToolbarProps {
  defaultSince: string;
  /** Auto-refresh when the URL does not say (`refresh=`). */
  defaultRefresh?: string;
  children?: ComponentChildren;
  showRefresh?: boolean;
}

/** Time range, auto-refresh and the page's filters; every choice lands in the URL. */
export function Toolbar({ defaultSince, defaultRefresh = 'off', children, showRefresh = true }: ToolbarProps) {
  const search = useSearch();
  const update = useUpdateSearch();
  const range = rangeOf(search, defaultSince);
  const custom = !('since' in range);
  const sinceValue = 'since' in range ? range.since : 'custom';
  const known = RANGE_PRESETS.some((p) => p.since === sinceValue);
  return (
    <form class="toolbar" aria-label="Time range and filters" onSubmit={(e) => e.preventDefault()}>
      <Field label="Time range">
        {(id) => (
          <select id={id} value={sinceValue} onChange={(e) => update({ since: e.currentTarget.value, from: undefined, to: undefined })}>
            {RANGE_PRESETS.map((p) => (
              <option key={p.since} value={p.since}>
                {p.label}
              </option>
            ))}
            {!known && !custom && <option value={sinceValue}>Last {sinceValue}</option>}
            {custom && <option value="custom">{`${formatTime(new Date(range.from).toISOString())} – ${formatTime(new Date(range.to).toISOString())}`}</option>}
          </select>
        )}
      </Field>
      {showRefresh && (
        <Field label="Auto-refresh">
          {(id) => (
            <select id={id} value={search.get('refresh') ?? defaultRefresh} onChange={(e) => update({ refresh: e.currentTarget.value })}>
              {REFRESH_OPTIONS.map((o) => (
                <option key={o.value} value={o.value}>
                  {o.label}
                </option>
              ))}
            </select>
          )}
        </Field>
      )}
      {children}
      {custom && (
        <button type="button" onClick={() => update({ from: undefined, to: undefined })}>
          Back to {defaultSince}
        </button>
      )}
    </form>
  );
}

interface VariableSelectProps {
  dashboard: string;
  name: string;
  label: string;
  defaultSince: string;
  /** Other selections the variable's query depends on (e.g. the tenant for the tool list). */
  depends?: Array<[string, string]>;
  /** A tenant-scoped reader's tenant picker is fixed. */
  fixed?: string;
}

/** A dashboard variable as a select: "All" or one value, from `GET /api/variables/…`. */
export function VariableSelect({ dashboard, name, label, defaultSince, depends = [], fixed }: VariableSelectProps) {
  const search = useSearch();
  const update = useUpdateSearch();
  const range = rangeOf(search, defaultSince);
  // The options load when the picker is first used, so they do not compete with the panels for the
  // engine while the page draws; the current choice is shown meanwhile.
  const [wanted, setWanted] = useState(false);
  const url = fixed === undefined && wanted ? `/api/variables/${dashboard}/${name}${qs([...rangeParams(range), ...depends])}` : null;
  const { data } = useData(url, (signal) => getJson<{ values: string[] }>(url!, signal));
  const selected = search.get(name) ?? '';
  const values = fixed !== undefined ? [fixed] : (data?.values ?? []);
  const options = selected && !values.includes(selected) ? [selected, ...values] : values;
  return (
    <Field label={label}>
      {(id) => (
        <select
          id={id}
          value={fixed ?? selected}
          disabled={fixed !== undefined}
          onFocus={() => setWanted(true)}
          onPointerDown={() => setWanted(true)}
          onChange={(e) => update({ [name]: e.currentTarget.value || undefined })}
        >
          {fixed === undefined && <option value="">All</option>}
          {options.map((v) => (
            <option key={v} value={v}>
              {v}
            </option>
          ))}
        </select>
      )}
    </Field>
  );
}
