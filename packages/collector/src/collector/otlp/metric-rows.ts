/**
 * OTLP metrics to `otel_metrics_*` rows, one table per point type, as the
 * OpenTelemetry Collector ClickHouse exporter writes them
 * (exporter/clickhouseexporter/internal/metrics): resource, scope and point
 * attributes as pdata AsString maps with sorted keys, ServiceName from
 * `service.name`, times in the tables' DateTime (seconds), an int value as
 * Float64, unset sum/min/max as 0, exemplar ids as hex (zeros when empty).
 * The input has passed the shape check (JSON) or protobuf decoding.
 */
import { wellFormedJson } from '../processors/well-formed.js';
import { TABLES } from '../../store/schema.js';
import { attributesJson, serviceNameOf } from './any-value.js';
import type { Int64, OtlpExemplar, OtlpMetric, OtlpMetricsRequest, OtlpPointBase, OtlpScope } from './types.js';
import { MAX_DATETIME_NANOS, RowRejected, idToHex, nanosToDateTime, toNanos } from './values.js';

export type MetricTable =
  | typeof TABLES.otelMetricsGauge
  | typeof TABLES.otelMetricsSum
  | typeof TABLES.otelMetricsHistogram
  | typeof TABLES.otelMetricsExponentialHistogram
  | typeof TABLES.otelMetricsSummary;

export interface MetricBatch {
  /** NDJSON per table, for the tables this request has points for. */
  tables: Map<MetricTable, { ndjson: string; rows: number }>;
  accepted: number;
  rejected: number;
  /** Why the first point was rejected, or a warning (a metric without data). */
  firstError?: string;
}

export function metricsToRows(request: OtlpMetricsRequest): MetricBatch {
  const batch: MetricBatch = { tables: new Map(), accepted: 0, rejected: 0 };
  for (const rm of request.resourceMetrics ?? []) {
    const attributes = rm.resource?.attributes;
    const resource = `{"ResourceAttributes":${attributesJson(attributes)},"ResourceSchemaUrl":${JSON.stringify(rm.schemaUrl ?? '')}`;
    const serviceName = JSON.stringify(serviceNameOf(attributes));
    for (const sm of rm.scopeMetrics ?? []) {
      const scope: OtlpScope = sm.scope ?? {};
      const head =
        `${resource},"ScopeName":${JSON.stringify(scope.name ?? '')},"ScopeVersion":${JSON.stringify(scope.version ?? '')}` +
        `,"ScopeAttributes":${attributesJson(scope.attributes)},"ScopeDroppedAttrCount":${scope.droppedAttributesCount ?? 0}` +
        `,"ScopeSchemaUrl":${JSON.stringify(sm.schemaUrl ?? '')},"ServiceName":${serviceName}`;
      for (const metric of sm.metrics ?? []) addMetric(batch, metric, head);
    }
  }
  return batch;
}

function addMetric(batch: MetricBatch, metric: OtlpMetric, head: string): void {
  const named = `${head},"MetricName":${JSON.stringify(metric.name ?? '')},"MetricDescription":${JSON.stringify(metric.description ?? '')},"MetricUnit":${JSON.stringify(metric.unit ?? '')}`;
  if (metric.gauge) {
    for (const p of metric.gauge.dataPoints ?? []) {
      add(batch, TABLES.otelMetricsGauge, () => `${point(named, p)},"Value":${numberValue(p.asDouble, p.asInt)},"Flags":${p.flags ?? 0}${exemplars(p.exemplars)}}`);
    }
  } else if (metric.sum) {
    const { aggregationTemporality = 0, isMonotonic = false } = metric.sum;
    for (const p of metric.sum.dataPoints ?? []) {
      add(
        batch,
        TABLES.otelMetricsSum,
        () => `${point(named, p)},"Value":${numberValue(p.asDouble, p.asInt)},"Flags":${p.flags ?? 0}${exemplars(p.exemplars)},"AggregationTemporality":${aggregationTemporality},"IsMonotonic":${isMonotonic}}`,
      );
    }
  } else if (metric.histogram) {
    const temporality = metric.histogram.aggregationTemporality ?? 0;
    for (const p of metric.histogram.dataPoints ?? []) {
      add(
        batch,
        TABLES.otelMetricsHistogram,
        () =>
          `${point(named, p)},"Count":${uint64(p.count)},"Sum":${float64(p.sum)},"BucketCounts":${uint64s(p.bucketCounts)},"ExplicitBounds":${float64s(p.explicitBounds)}` +
          histogramTail(p, temporality),
      );
    }
  } else if (metric.exponentialHistogram) {
    const temporality = metric.exponentialHistogram.aggregationTemporality ?? 0;
    for (const p of metric.exponentialHistogram.dataPoints ?? []) {
      add(
        batch,
        TABLES.otelMetricsExponentialHistogram,
        () =>
          `${point(named, p)},"Count":${uint64(p.count)},"Sum":${float64(p.sum)},"Scale":${p.scale ?? 0},"ZeroCount":${uint64(p.zeroCount)}` +
          `,"PositiveOffset":${p.positive?.offset ?? 0},"PositiveBucketCounts":${uint64s(p.positive?.bucketCounts)}` +
          `,"NegativeOffset":${p.negative?.offset ?? 0},"NegativeBucketCounts":${uint64s(p.negative?.bucketCounts)}` +
          histogramTail(p, temporality),
      );
    }
  } else if (metric.summary) {
    for (const p of metric.summary.dataPoints ?? []) {
      const quantiles = p.quantileValues ?? [];
      add(
        batch,
        TABLES.otelMetricsSummary,
        () =>
          `${point(named, p)},"Count":${uint64(p.count)},"Sum":${float64(p.sum)}` +
          `,"ValueAtQuantiles.Quantile":${float64s(quantiles.map((q) => q.quantile ?? 0))},"ValueAtQuantiles.Value":${float64s(quantiles.map((q) => q.value ?? 0))}` +
          `,"Flags":${p.flags ?? 0}}`,
      );
    }
  } else {
    // The exporter fails the whole request on a metric without data; here it is skipped with a warning.
    batch.firstError ??= 'a metric has no data (gauge, sum, histogram, exponentialHistogram or summary)';
  }
}

function add(batch: MetricBatch, table: MetricTable, row: () => string): void {
  let json: string;
  try {
    json = wellFormedJson(row());
  } catch (err) {
    if (!(err instanceof RowRejected)) throw err;
    batch.rejected++;
    batch.firstError = batch.rejected === 1 ? err.message : batch.firstError;
    return;
  }
  let entry = batch.tables.get(table);
  if (!entry) batch.tables.set(table, (entry = { ndjson: '', rows: 0 }));
  entry.ndjson += json + '\n';
  entry.rows++;
  batch.accepted++;
}

/** The columns every point type shares, after the metric's: Attributes, StartTimeUnix, TimeUnix. */
function point(named: string, p: OtlpPointBase): string {
  return (
    `${named},"Attributes":${attributesJson(p.attributes)}` +
    `,"StartTimeUnix":"${nanosToDateTime(toNanos(p.startTimeUnixNano, MAX_DATETIME_NANOS, 'data point'))}"` +
    `,"TimeUnix":"${nanosToDateTime(toNanos(p.timeUnixNano, MAX_DATETIME_NANOS, 'data point'))}"`
  );
}

/** The columns both histogram types end with. */
function histogramTail(p: { exemplars?: OtlpExemplar[]; flags?: number; min?: number; max?: number }, temporality: number): string {
  return `${exemplars(p.exemplars)},"Flags":${p.flags ?? 0},"Min":${float64(p.min)},"Max":${float64(p.max)},"AggregationTemporality":${temporality}}`;
}

function exemplars(list: OtlpExemplar[] | undefined): string {
  if (!list || list.length === 0) return ',"Exemplars.FilteredAttributes":[],"Exemplars.TimeUnix":[],"Exemplars.Value":[],"Exemplars.SpanId":[],"Exemplars.TraceId":[]';
  return (
    `,"Exemplars.FilteredAttributes":[${list.map((e) => attributesJson(e.filteredAttributes)).join(',')}]` +
    `,"Exemplars.TimeUnix":${JSON.stringify(list.map((e) => nanosToDateTime(toNanos(e.timeUnixNano, MAX_DATETIME_NANOS, 'exemplar'))))}` +
    `,"Exemplars.Value":[${list.map((e) => numberValue(e.asDouble, e.asInt)).join(',')}]` +
    `,"Exemplars.SpanId":${JSON.stringify(list.map((e) => exemplarId(e.spanId, 8)))}` +
    `,"Exemplars.TraceId":${JSON.stringify(list.map((e) => exemplarId(e.traceId, 16)))}`
  );
}

/** The exporter hex-encodes the fixed-size id array, so an absent exemplar id is all zeros. */
function exemplarId(id: OtlpExemplar['spanId'], size: 8 | 16): string {
  const hex = idToHex(id, size);
  if (hex === undefined) throw new RowRejected(`exemplar has an invalid ${size === 8 ? 'spanId' : 'traceId'}`);
  return hex === '' ? '0'.repeat(size * 2) : hex;
}

/** A NumberDataPoint or Exemplar value as Float64: the double, the int converted, or 0 when unset. */
function numberValue(asDouble: number | undefined, asInt: Int64 | undefined): string {
  if (asDouble !== undefined) return float64(asDouble);
  if (asInt !== undefined) return float64(Number(asInt));
  return '0';
}

/** A Float64 in JSONEachRow: non-finite values as the engine's `nan`/`inf` words (JSON has no literal for them). */
function float64(value: number | undefined): string {
  if (value === undefined) return '0';
  if (Number.isFinite(value)) return String(value);
  return Number.isNaN(value) ? '"nan"' : value > 0 ? '"inf"' : '"-inf"';
}

function float64s(values: number[] | undefined): string {
  return `[${(values ?? []).map(float64).join(',')}]`;
}

/** UInt64 as a quoted decimal: exact beyond 2^53, and the engine reads quoted integers. */
function uint64(value: Int64 | undefined): string {
  return value === undefined ? '0' : `"${value}"`;
}

function uint64s(values: Int64[] | undefined): string {
  return `[${(values ?? []).map(uint64).join(',')}]`;
}
