/** The dashboards, each generated into dashboards/<file>. */
import type { DashboardBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import type { DashboardDef } from './definition.js';
import { FLEET, fleetDashboard } from './fleet.js';
import { TENANT, tenantDashboard } from './tenant.js';
import { auditDashboard } from './audit.js';
import { incidentsDashboard } from './incidents.js';

export interface DashboardSource {
  file: string;
  build: () => DashboardBuilder;
}

export const DASHBOARDS: readonly DashboardSource[] = [
  { file: 'fleet.json', build: fleetDashboard },
  { file: 'tenant.json', build: tenantDashboard },
  { file: 'audit.json', build: auditDashboard },
  { file: 'incidents.json', build: incidentsDashboard },
];

/** The dashboards defined as data: the panel API serves their panels to the console. */
export const DASHBOARD_DEFS: readonly DashboardDef[] = [FLEET, TENANT];
