/**
 * The SDK has no ClickHouse module; this is the custom dataquery builder its
 * README describes, emitting the plugin's CHQuery model (editorType sql).
 */
import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import { CLICKHOUSE_DATASOURCE } from '../alerts/provisioning.js';

/** sqlds formats: 0 time series (long → wide), 1 table, 2 logs, 3 trace. */
export const Format = { TimeSeries: 0, Table: 1, Logs: 2, Trace: 3 } as const;
export type FormatValue = (typeof Format)[keyof typeof Format];

const QUERY_TYPE: Record<FormatValue, string> = { 0: 'timeseries', 1: 'table', 2: 'logs', 3: 'traces' };

export interface ClickHouseQuery {
  refId: string;
  datasource: { type: string; uid: string };
  editorType: 'sql';
  rawSql: string;
  format: FormatValue;
  queryType: string;
}

export class ClickHouseQueryBuilder implements cog.Builder<cog.Dataquery> {
  private readonly query: ClickHouseQuery;

  constructor(rawSql: string, format: FormatValue = Format.TimeSeries) {
    this.query = {
      refId: 'A',
      datasource: { ...CLICKHOUSE_DATASOURCE },
      editorType: 'sql',
      rawSql,
      format,
      queryType: QUERY_TYPE[format],
    };
  }

  refId(refId: string): this {
    this.query.refId = refId;
    return this;
  }

  build(): cog.Dataquery {
    // The variant marker only satisfies the SDK's type; it must not reach the JSON.
    return { ...this.query } as unknown as cog.Dataquery;
  }
}

export const ds = () => ({ ...CLICKHOUSE_DATASOURCE });
export const sqlQuery = (rawSql: string, format: FormatValue = Format.TimeSeries) => new ClickHouseQueryBuilder(rawSql, format);
