/**
 * Semantic-convention names mcptrail emits. Stable ones are imported from
 * `@opentelemetry/semantic-conventions`; the MCP and GenAI ones are still
 * incubating (and, since 1.45, marked as moved to the GenAI conventions
 * repository), so they are copied here as the package's README asks of
 * instrumentation libraries, rather than imported from `/incubating` at run
 * time (a 1.2 MB module whose names may change in a minor release).
 * test/semconv.test.ts holds every copy equal to the package's constant.
 */
export {
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_REQUEST_RESEND_COUNT,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_NETWORK_TRANSPORT,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  ATTR_SERVICE_NAME,
  ATTR_URL_FULL,
  NETWORK_TRANSPORT_VALUE_PIPE,
  NETWORK_TRANSPORT_VALUE_TCP,
} from '@opentelemetry/semantic-conventions';

// Copies of @opentelemetry/semantic-conventions/incubating (checked by test/semconv.test.ts).
export const ATTR_MCP_METHOD_NAME = 'mcp.method.name';
export const ATTR_MCP_PROTOCOL_VERSION = 'mcp.protocol.version';
export const ATTR_MCP_SESSION_ID = 'mcp.session.id';
export const ATTR_GEN_AI_TOOL_NAME = 'gen_ai.tool.name';
export const ATTR_GEN_AI_OPERATION_NAME = 'gen_ai.operation.name';
export const ATTR_JSONRPC_REQUEST_ID = 'jsonrpc.request.id';
export const ATTR_RPC_RESPONSE_STATUS_CODE = 'rpc.response.status_code';
export const MCP_METHOD_NAME_VALUE_TOOLS_CALL = 'tools/call';
export const GEN_AI_OPERATION_NAME_VALUE_EXECUTE_TOOL = 'execute_tool';
export const METRIC_MCP_SERVER_OPERATION_DURATION = 'mcp.server.operation.duration';
export const METRIC_MCP_CLIENT_OPERATION_DURATION = 'mcp.client.operation.duration';

/**
 * The MCP conventions' histogram boundaries for operation durations, in
 * seconds (semantic-conventions-genai model/mcp/metrics.yaml).
 */
export const MCP_DURATION_BUCKETS_S: readonly number[] = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60, 120, 300];
