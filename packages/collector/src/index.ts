/**
 * @mcptrail/collector: the collector (receivers → processors → writer), the
 * ClickHouse store, the audit queries, alert rules and the demo. The
 * `mcptrail` CLI is its bin; this is the programmatic surface.
 */
export { createCollector, type Collector, type CollectorOptions } from './collector/index.js';
export { openStore, migrate, TABLES, type Store } from './store/index.js';
export { listCalls, getTrace } from './audit/index.js';
export { AlertEvaluator } from './alerts/index.js';
export { startDemo, type Demo, type DemoOptions, type DemoFile } from './demo/index.js';
