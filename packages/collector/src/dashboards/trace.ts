/**
 * The trace-view query, in the shape the ClickHouse plugin's own trace-id
 * link generates (src/data/sqlGenerator.ts, OTel column map, trace-id mode
 * with the `_trace_id_ts` companion table, events and links columns set):
 * the span columns under the aliases Grafana's trace view expects, span
 * events as `logs` and links as `references` so the view shows them, and the
 * trace's time bounds looked up first so only its partitions are read.
 */
import { TABLES } from '../store/schema.js';
import { CLICKHOUSE_DATASOURCE } from '../alerts/provisioning.js';
import { Format } from './query.js';

const tags = (col: string) => `arrayMap(key -> map('key', key, 'value',${col}[key]), mapKeys(${col}))`;
const fields = (col: string) => `arrayMap(key -> map('key', key, 'value', ${col}[key]), mapKeys(${col}))`;

/** Span events as the trace view's `logs` (name, ms timestamp, fields), as the plugin selects a Nested Events column. */
const LOGS =
  `arrayMap((name, timestamp, attributes) -> tuple(name, toString(toUnixTimestamp64Milli(timestamp)), ${fields('attributes')})` +
  `::Tuple(name String, timestamp String, fields Array(Map(String, String))), "Events".Name, "Events".Timestamp, "Events".Attributes) AS logs`;

/** Span links as the trace view's `references` (trace id, span id, tags). */
const REFERENCES =
  `arrayMap((traceID, spanID, attributes) -> tuple(traceID, spanID, ${fields('attributes')})` +
  `::Tuple(traceID String, spanID String, tags Array(Map(String, String))), "Links".TraceId, "Links".SpanId, "Links".Attributes) AS references`;

/** `traceId` is spliced as a literal: Grafana fills `${__value.raw}` from the clicked cell. */
export function traceByIdSql(traceId: string): string {
  return `WITH '${traceId}' as __gf_trace_id,
(SELECT min(Start) FROM ${TABLES.otelTracesTraceIdTs} WHERE TraceId = __gf_trace_id) as __gf_trace_start,
(SELECT max(End) + 1 FROM ${TABLES.otelTracesTraceIdTs} WHERE TraceId = __gf_trace_id) as __gf_trace_end
SELECT "TraceId" as traceID, "SpanId" as spanID, "ParentSpanId" as parentSpanID, "ServiceName" as serviceName,
"SpanName" as operationName, multiply(toUnixTimestamp64Nano("Timestamp"), 0.000001) as startTime,
multiply("Duration", 0.000001) as duration, ${tags('"SpanAttributes"')} as tags,
${tags('"ResourceAttributes"')} as serviceTags,
if("StatusCode" IN ('Error', 'STATUS_CODE_ERROR'), 2, 0) as statusCode,
${LOGS},
${REFERENCES},
"SpanKind" as kind, "StatusMessage" as statusMessage, "TraceState" as traceState
FROM ${TABLES.otelTraces}
WHERE traceID = __gf_trace_id AND "Timestamp" >= __gf_trace_start AND "Timestamp" <= __gf_trace_end`;
}

/** A data link that opens the clicked trace id in Explore's trace view (format 3, queryType traces). */
export function traceDataLink() {
  return {
    title: 'Open trace ${__value.raw}',
    url: '',
    internal: {
      datasourceUid: CLICKHOUSE_DATASOURCE.uid,
      datasourceName: 'ClickHouse',
      query: {
        refId: 'A',
        datasource: { ...CLICKHOUSE_DATASOURCE },
        editorType: 'sql',
        format: Format.Trace,
        queryType: 'traces',
        rawSql: traceByIdSql('${__value.raw}'),
      },
    },
  };
}
