/**
 * A dashboard defined once, as data: its variables and its panels (title,
 * kind, SQL with Grafana's macros and variables). The Grafana builder
 * (panels.ts `grafanaDashboard`) and the console's panel API
 * (collector/console-api) both read these definitions, so the SQL a Grafana
 * panel sends and the SQL behind the same console panel are one string.
 */
import type { PanelSpec, VariableSpec } from './panels.js';

export type PanelKind = 'timeseries' | 'table';

export interface PanelDef extends PanelSpec {
  /** Stable slug, part of the panel API's URL (`/api/panels/:dashboard/:panel`). */
  id: string;
  kind: PanelKind;
}

export interface DashboardDef {
  /** Stable slug, part of the panel API's URL. */
  id: string;
  uid: string;
  title: string;
  tags?: string[];
  /** Grafana's default range start, `now-<duration>`; the console's default range too. */
  from: `now-${string}`;
  refresh?: string;
  variables: readonly VariableSpec[];
  panels: readonly PanelDef[];
}
