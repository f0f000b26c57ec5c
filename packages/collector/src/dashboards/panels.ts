/** Panel and variable helpers so each dashboard file reads as a list of questions it answers. */
import { DashboardBuilder, QueryVariableBuilder, CustomVariableBuilder, VariableRefresh, VariableSort } from '@grafana/grafana-foundation-sdk/dashboard';
import { PanelBuilder as TimeSeriesPanel } from '@grafana/grafana-foundation-sdk/timeseries';
import { PanelBuilder as TablePanel } from '@grafana/grafana-foundation-sdk/table';
import { ds, sqlQuery, Format } from './query.js';
import { TABLES } from './sql.js';
import type { DashboardDef } from './definition.js';

/** What every mcptrail dashboard shares: UTC, tagged, a default range and refresh. */
export function baseDashboard(d: { title: string; uid: string; tags?: string[]; from: string; refresh?: string }): DashboardBuilder {
  const builder = new DashboardBuilder(d.title)
    .uid(d.uid)
    .tags(['mcptrail', ...(d.tags ?? [])])
    .time({ from: d.from, to: 'now' })
    .timezone('utc');
  return d.refresh ? builder.refresh(d.refresh) : builder;
}

/** The tenant picker every dashboard starts with, read from the rollup (cheap at any range). */
export function tenantVariableSpec(opts: { multi?: boolean } = {}): VariableSpec {
  const multi = opts.multi ?? true;
  return {
    name: 'tenant',
    label: 'Tenant',
    multi,
    includeAll: multi,
    sql: `SELECT DISTINCT tenant_id FROM ${TABLES.toolCalls1m} WHERE $__timeFilter(minute) ORDER BY tenant_id`,
  };
}

export function tenantVariable(opts: { multi?: boolean } = {}): QueryVariableBuilder {
  return queryVariable(tenantVariableSpec(opts));
}

export interface PanelSpec {
  title: string;
  sql: string;
  unit?: string;
  description?: string;
  width?: number;
  height?: number;
}

export function timeseries(p: PanelSpec): TimeSeriesPanel {
  return new TimeSeriesPanel()
    .title(p.title)
    .description(p.description ?? '')
    .datasource(ds())
    // The rollup has one row per minute: finer buckets would only show gaps.
    .interval('1m')
    .unit(p.unit ?? 'short')
    .span(p.width ?? 12)
    .height(p.height ?? 8)
    .withTarget(sqlQuery(p.sql, Format.TimeSeries));
}

export function table(p: PanelSpec): TablePanel {
  return new TablePanel()
    .title(p.title)
    .description(p.description ?? '')
    .datasource(ds())
    .span(p.width ?? 12)
    .height(p.height ?? 8)
    .withTarget(sqlQuery(p.sql, Format.Table));
}

/** A dashboard defined once (see definition.ts) as Grafana builds it. */
export function grafanaDashboard(def: DashboardDef): DashboardBuilder {
  let builder = baseDashboard(def);
  for (const v of def.variables) builder = builder.withVariable(queryVariable(v));
  for (const p of def.panels) builder = builder.withPanel(p.kind === 'table' ? table(p) : timeseries(p));
  return builder;
}

export interface VariableSpec {
  name: string;
  label: string;
  sql: string;
  multi?: boolean;
  includeAll?: boolean;
}

/** A variable fed by a ClickHouse query; refreshed on time-range change because its values depend on it. */
export function queryVariable(v: VariableSpec): QueryVariableBuilder {
  const builder = new QueryVariableBuilder(v.name)
    .label(v.label)
    .datasource(ds())
    .query({ refId: `var-${v.name}`, queryType: 'sql', editorType: 'sql', rawSql: v.sql })
    .definition(v.sql)
    .refresh(VariableRefresh.OnTimeRangeChanged)
    .sort(VariableSort.AlphabeticalAsc)
    .multi(v.multi ?? true)
    .includeAll(v.includeAll ?? true);
  return v.includeAll === false ? builder : builder.current({ selected: true, text: ['All'], value: ['$__all'] });
}

export function customVariable(name: string, label: string, values: readonly string[]): CustomVariableBuilder {
  return new CustomVariableBuilder(name)
    .label(label)
    .values(values.join(','))
    .multi(true)
    .includeAll(true)
    .current({ selected: true, text: ['All'], value: ['$__all'] });
}
