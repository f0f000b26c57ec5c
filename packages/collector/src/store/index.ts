/** Store: the ClickHouse schema, its migrations, and two drivers (embedded chdb, http) that run the same SQL. */
export type { Store, OpenStoreOptions, QueryParams, QueryParamValue, InsertOptions, InsertResult, StoreSettings, RawFormat } from './types.js';
export { openStore, embeddedPath, DEFAULT_DATA_DIR } from './open.js';
export { openEmbeddedStore } from './embedded.js';
export { openHttpStore, type HttpStoreOptions } from './http.js';
export { migrate, migrateWithRetention, appliedVersions, engineVersion, MIGRATIONS, type Migration, type AppliedMigration, type MigrateOptions } from './migrations.js';
export { DATABASE, TABLES, toolCalls1mSelect, TOOL_CALLS_ENGINE, TOOL_CALLS_TTL_DAYS, TRACES_TTL_DAYS, ROLLUP_TTL_DAYS, DEDUP_WINDOW_BLOCKS, LEDGER_TTL_DAYS } from './schema.js';
export { StoreError, isStoreError } from './errors.js';
export { applyRetention, retentionFromEnv, parseTtlDays, DEFAULT_RETENTION, type Retention, type RetentionChange } from './retention.js';
export { repairRollup, type RollupRepair } from './rollup-repair.js';
export { openMarker, type OpenMarker } from './open-marker.js';
