/**
 * The MCP semantic-convention metric of the server side,
 * `mcp.server.operation.duration` (seconds, the conventions' buckets), one
 * point per tools/call the pipeline or the SDK-rejection guard accounted for.
 * Attributes: `mcp.method.name`, `gen_ai.tool.name` (registered tools only:
 * an unknown name is the caller's input and unbounded), `gen_ai.operation.name`,
 * `error.type` (failures only), `mcp.protocol.version` when known; the tenant
 * (`mcptrail.tenant_id`) only when `tenantLabel` is on, since every tenant
 * multiplies the series by tools × error types. Session and request ids are
 * never metric attributes.
 *
 * mcptrail acts as an MCP client nowhere (its upstream client speaks HTTP to
 * customer systems), so `mcp.client.operation.duration` has no place here.
 */
import type { Attributes, Counter, Histogram } from '@opentelemetry/api';
import { lazyInstruments } from '../telemetry/meters.js';
import {
  ATTR_ERROR_TYPE,
  ATTR_GEN_AI_OPERATION_NAME,
  ATTR_GEN_AI_TOOL_NAME,
  ATTR_MCP_METHOD_NAME,
  ATTR_MCP_PROTOCOL_VERSION,
  GEN_AI_OPERATION_NAME_VALUE_EXECUTE_TOOL,
  MCP_DURATION_BUCKETS_S,
  MCP_METHOD_NAME_VALUE_TOOLS_CALL,
  METRIC_MCP_SERVER_OPERATION_DURATION,
} from '../telemetry/semconv.js';

export interface ServerMetrics {
  /** One tools/call; `tool` '' for a name that is not registered, `errorType` '' on success. */
  recordCall(durationMs: number, tool: string, protocolVersion: string, errorType: string, tenantId: string): void;
}

export interface ServerMetricsOptions {
  /** Add `mcptrail.tenant_id` to the duration metric (cardinality: tenants × tools × error types). Default false. */
  tenantLabel?: boolean;
}

const durations = lazyInstruments(
  (meter): Histogram =>
    meter.createHistogram(METRIC_MCP_SERVER_OPERATION_DURATION, {
      description: 'MCP request duration as observed on the receiver, from receipt until the result is sent.',
      unit: 's',
      advice: { explicitBucketBoundaries: [...MCP_DURATION_BUCKETS_S] },
    }),
);

const auditFailures = lazyInstruments(
  (meter): Counter =>
    meter.createCounter('mcptrail.records.emit_failures', {
      description: 'Call records that could not be built or handed to the sink (the call itself was answered).',
    }),
);

export function serverMetrics(opts: ServerMetricsOptions = {}): ServerMetrics {
  const tenantLabel = opts.tenantLabel ?? false;
  return {
    recordCall(durationMs, tool, protocolVersion, errorType, tenantId) {
      const attributes: Attributes = {
        [ATTR_MCP_METHOD_NAME]: MCP_METHOD_NAME_VALUE_TOOLS_CALL,
        [ATTR_GEN_AI_OPERATION_NAME]: GEN_AI_OPERATION_NAME_VALUE_EXECUTE_TOOL,
      };
      if (tool) attributes[ATTR_GEN_AI_TOOL_NAME] = tool;
      if (errorType) attributes[ATTR_ERROR_TYPE] = errorType;
      if (protocolVersion) attributes[ATTR_MCP_PROTOCOL_VERSION] = protocolVersion;
      if (tenantLabel) attributes['mcptrail.tenant_id'] = tenantId;
      for (const h of durations()) h.record(durationMs / 1000, attributes);
    },
  };
}

export function countAuditFailure(): void {
  for (const c of auditFailures()) c.add(1);
}
