/**
 * The tables the alerting side reads and writes. Their DDL lives with the
 * rest of the schema in src/store (migration 2); this names them for alerts
 * and dashboards.
 */
import { TABLES } from '../store/schema.js';

export const ALERT_TABLES = {
  alertEvents: TABLES.alertEvents,
  pipelineEvents: TABLES.pipelineEvents,
} as const;
