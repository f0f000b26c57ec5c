/**
 * Semantic-convention names mcptrail emits, copied from
 * `@opentelemetry/semantic-conventions` rather than imported at run time:
 * the MCP and GenAI ones are incubating (since 1.45 marked as moved to the
 * GenAI conventions repository), which the package's README asks
 * instrumentation libraries to copy; the stable ones are copied too, so
 * importing mcptrail does not load the package (import time, BENCHMARKS.md
 * §7). test/semconv.test.ts holds every copy equal to the package's constant.
 */
export const ATTR_ERROR_TYPE = 'error.type';
export const ATTR_HTTP_REQUEST_METHOD = 'http.request.method';
export const ATTR_HTTP_REQUEST_RESEND_COUNT = 'http.request.resend_count';
export const ATTR_HTTP_RESPONSE_STATUS_CODE = 'http.response.status_code';
export const ATTR_NETWORK_TRANSPORT = 'network.transport';
export const ATTR_NETWORK_PROTOCOL_NAME = 'network.protocol.name';
export const ATTR_NETWORK_PROTOCOL_VERSION = 'network.protocol.version';
export const ATTR_CLIENT_ADDRESS = 'client.address';
export const ATTR_CLIENT_PORT = 'client.port';
export const ATTR_SERVER_ADDRESS = 'server.address';
export const ATTR_SERVER_PORT = 'server.port';
export const ATTR_SERVICE_NAME = 'service.name';
export const ATTR_URL_FULL = 'url.full';
export const NETWORK_TRANSPORT_VALUE_PIPE = 'pipe';
export const NETWORK_TRANSPORT_VALUE_TCP = 'tcp';

// Incubating.
export const ATTR_MCP_METHOD_NAME = 'mcp.method.name';
export const ATTR_MCP_PROTOCOL_VERSION = 'mcp.protocol.version';
export const ATTR_MCP_SESSION_ID = 'mcp.session.id';
export const ATTR_GEN_AI_TOOL_NAME = 'gen_ai.tool.name';
export const ATTR_GEN_AI_OPERATION_NAME = 'gen_ai.operation.name';
export const ATTR_JSONRPC_REQUEST_ID = 'jsonrpc.request.id';
export const ATTR_RPC_RESPONSE_STATUS_CODE = 'rpc.response.status_code';
export const MCP_METHOD_NAME_VALUE_TOOLS_CALL = 'tools/call';
/** `error.type` of a tools/call whose result has `isError: true` (the MCP conventions' value; the package has no constant for it). */
export const TOOL_ERROR_TYPE = 'tool_error';
export const GEN_AI_OPERATION_NAME_VALUE_EXECUTE_TOOL = 'execute_tool';
export const METRIC_MCP_SERVER_OPERATION_DURATION = 'mcp.server.operation.duration';
export const METRIC_MCP_CLIENT_OPERATION_DURATION = 'mcp.client.operation.duration';

/**
 * The MCP conventions' histogram boundaries for operation durations, in
 * seconds (semantic-conventions-genai model/mcp/metrics.yaml).
 */
export const MCP_DURATION_BUCKETS_S: readonly number[] = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60, 120, 300];
