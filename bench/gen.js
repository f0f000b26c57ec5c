/** Realistic payloads: CallRecords (NDJSON) and OTLP protobuf span batches, each unique. */
import { randomBytes, randomUUID } from 'node:crypto';

const hex = (n) => randomBytes(n).toString('hex');
const TOOLS = Array.from({ length: 30 }, (_, i) => `tool_${String(i).padStart(2, '0')}`);
const OUTCOMES = ['ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'tool_error', 'system_error'];

/** One valid CallRecord, as instrument() emits it. */
export function makeRecord(i, tsMs = Date.now()) {
  const tenant = `tenant-${String(i % 50).padStart(2, '0')}`;
  const agent = `agent-${String(i % 200).padStart(3, '0')}`;
  const outcome = OUTCOMES[i % OUTCOMES.length];
  const duration = 5 + (i % 97) * 1.7;
  return {
    ts: new Date(tsMs).toISOString(),
    call_id: randomUUID(),
    trace_id: hex(16),
    span_id: hex(8),
    session_id: '',
    request_id: String(i),
    service: 'crm-mcp',
    tool: TOOLS[i % TOOLS.length],
    tool_version: '3',
    tool_deprecated: false,
    tenant_id: tenant,
    agent_id: agent,
    subject: `${agent}@${tenant}`,
    auth_method: 'jwt',
    scope_required: 'crm:read',
    scopes_granted: ['crm:read', 'crm:write'],
    outcome,
    error_class: outcome === 'ok' ? '' : outcome === 'tool_error' ? '' : 'UpstreamError',
    error_code: outcome === 'system_error' ? 'upstream_503' : '',
    duration_ms: Math.round(duration * 1000) / 1000,
    upstream_calls: 1,
    upstream_retries: i % 13 === 0 ? 1 : 0,
    budget_ms_total: 20000,
    budget_ms_used: Math.round(duration),
    auth_refresh: 0,
    auth_refresh_failed: 0,
    auth_refresh_reason: '',
    rate_limited: false,
    rate_limit_budget: '',
    idempotency_key: '',
    idempotent_replay: false,
    args_summary: `{"customer_id":{"type":"string","len":8,"sha256_8":"${hex(4)}"},"query":{"type":"string","len":${20 + (i % 40)},"sha256_8":"${hex(4)}"}}`,
  };
}

export function ndjsonBatch(n, offset = 0) {
  const now = Date.now();
  let out = '';
  for (let i = 0; i < n; i++) out += JSON.stringify(makeRecord(offset + i, now - ((offset + i) % 3_600_000))) + '\n';
  return out;
}

/**
 * `count` OTLP protobuf bodies of `perRequest` spans each: an MCP SERVER span
 * with semconv attributes and an upstream CLIENT child, like an instrumented
 * server emits. Built with the real SDK and serialised by the real OTLP
 * protobuf serializer.
 */
export async function otlpBodies(count, perRequest) {
  const { BasicTracerProvider, SimpleSpanProcessor } = await import('@opentelemetry/sdk-trace-base');
  const { resourceFromAttributes } = await import('@opentelemetry/resources');
  const { ProtobufTraceSerializer } = await import('@opentelemetry/otlp-transformer');
  const { SpanKind, trace, context } = await import('@opentelemetry/api');
  let captured = [];
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'crm-mcp', 'service.version': '1.4.2', 'deployment.environment': 'bench', 'host.name': 'bench-host' }),
    spanProcessors: [new SimpleSpanProcessor({ export: (spans, done) => { captured.push(...spans); done({ code: 0 }); }, shutdown: async () => {} })],
  });
  const tracer = provider.getTracer('mcptrail', '0.1.0');
  const bodies = [];
  let n = 0;
  for (let b = 0; b < count; b++) {
    captured = [];
    for (let i = 0; i < perRequest / 2; i++, n++) {
      const tool = TOOLS[n % TOOLS.length];
      const server = tracer.startSpan(`tools/call ${tool}`, {
        kind: SpanKind.SERVER,
        attributes: {
          'mcp.method.name': 'tools/call',
          'gen_ai.tool.name': tool,
          'gen_ai.operation.name': 'execute_tool',
          'network.transport': 'tcp',
          'jsonrpc.request.id': String(n),
          'mcp.protocol.version': '2025-06-18',
          'mcptrail.tenant_id': `tenant-${String(n % 50).padStart(2, '0')}`,
          'mcptrail.agent_id': `agent-${String(n % 200).padStart(3, '0')}`,
          'mcptrail.call_id': randomUUID(),
        },
      });
      const ctx = trace.setSpan(context.active(), server);
      const client = tracer.startSpan('GET', { kind: SpanKind.CLIENT, attributes: { 'http.request.method': 'GET', 'server.address': 'crm.example', 'url.full': `https://crm.example/v1/customers/${n % 1000}`, 'http.response.status_code': 200 } }, ctx);
      client.end();
      server.end();
    }
    bodies.push(Buffer.from(ProtobufTraceSerializer.serializeRequest(captured)));
  }
  await provider.shutdown();
  return bodies;
}
