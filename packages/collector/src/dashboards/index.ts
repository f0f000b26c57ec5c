/** Dashboards as code: the sources and the generator of dashboards/. */
export { DASHBOARDS, DASHBOARD_DEFS, type DashboardSource } from './catalog.js';
export type { DashboardDef, PanelDef, PanelKind } from './definition.js';
export type { VariableSpec } from './panels.js';
export { ClickHouseQueryBuilder, Format } from './query.js';
export { traceByIdSql } from './trace.js';
export { renderArtifacts, checkArtifacts, writeArtifacts, type Artifact } from './render.js';
