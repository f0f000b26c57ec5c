/** Dashboards as code: the sources and the generator of dashboards/. */
export { DASHBOARDS, type DashboardSource } from './catalog.js';
export { ClickHouseQueryBuilder, Format } from './query.js';
export { traceByIdSql } from './trace.js';
export { renderArtifacts, checkArtifacts, writeArtifacts, type Artifact } from './render.js';
