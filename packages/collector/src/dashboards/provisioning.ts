/** Grafana provisioning for the datasource and the dashboards folder. */
import { DATABASE, TABLES } from '../store/schema.js';
import { CLICKHOUSE_DATASOURCE } from '../alerts/provisioning.js';

/** Where docker-compose mounts dashboards/ inside the Grafana container. */
export const GRAFANA_DASHBOARDS_PATH = '/var/lib/grafana/dashboards/mcptrail';

export function datasourceProvisioning() {
  return {
    apiVersion: 1,
    datasources: [
      {
        name: 'ClickHouse',
        uid: CLICKHOUSE_DATASOURCE.uid,
        type: CLICKHOUSE_DATASOURCE.type,
        editable: false,
        jsonData: {
          host: '$__env{CLICKHOUSE_HOST}',
          port: 8123,
          protocol: 'http',
          username: '$__env{CLICKHOUSE_USER}',
          defaultDatabase: DATABASE,
          queryTimeout: 60,
          // Map-key discovery scans the big Map columns; the dashboards never need it.
          enableMapKeysDiscovery: false,
          traces: {
            defaultDatabase: DATABASE,
            defaultTable: TABLES.otelTraces.slice(DATABASE.length + 1),
            otelEnabled: true,
            otelVersion: 'latest',
            durationUnit: 'nanoseconds',
            traceTimestampTableSuffix: '_trace_id_ts',
          },
        },
        secureJsonData: { password: '$__env{CLICKHOUSE_PASSWORD}' },
      },
    ],
  };
}

export function dashboardsProvisioning() {
  return {
    apiVersion: 1,
    providers: [
      {
        name: 'mcptrail',
        orgId: 1,
        folder: 'mcptrail',
        type: 'file',
        disableDeletion: true,
        allowUiUpdates: false,
        updateIntervalSeconds: 30,
        options: { path: GRAFANA_DASHBOARDS_PATH, foldersFromFilesStructure: false },
      },
    ],
  };
}
