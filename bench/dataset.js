/**
 * The §4/§5 data set, generated inside the engine (INSERT ... SELECT FROM
 * numbers(N)): N tool_calls over 30 days, 50 tenants, 200 agents (each
 * belonging to one tenant), 30 tools, a realistic outcome mix; and otel_traces
 * with a SERVER span and an upstream CLIENT child per call for the last days.
 * The rollup views fill as they would from live inserts. Columns are named, so
 * the fields later migrations add take their defaults.
 */
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const H = (n) => `sipHash64(number, ${n})`;

export function toolCallsInsert(rows) {
  const agent = `(${H(1)} % 200)`;
  const outcomeDraw = `(${H(2)} % 1000)`;
  return `
INSERT INTO mcptrail.tool_calls (
  ts, call_id, trace_id, span_id, session_id, request_id, service, tool, tool_version, tool_deprecated, tenant_id, agent_id, subject, auth_method, scope_required, scopes_granted, outcome, error_class, error_code, duration_ms, upstream_calls, upstream_retries, budget_ms_total, budget_ms_used, auth_refresh, auth_refresh_failed, auth_refresh_reason, rate_limited, rate_limit_budget, idempotency_key, idempotent_replay, args_summary
)
SELECT
  fromUnixTimestamp64Milli(toInt64(toUnixTimestamp64Milli(now64(3)) - intDiv(number * 2592000000, ${rows}) - ${H(9)} % 250), 'UTC') AS ts,
  generateUUIDv4(number) AS call_id,
  lower(concat(hex(${H(3)}), hex(${H(4)}))) AS trace_id,
  lower(hex(${H(5)})) AS span_id,
  '' AS session_id,
  toString(number % 100000) AS request_id,
  'crm-mcp' AS service,
  concat('tool_', leftPad(toString(${H(6)} % 30), 2, '0')) AS tool,
  '3' AS tool_version,
  false AS tool_deprecated,
  concat('tenant-', leftPad(toString(${agent} % 50), 2, '0')) AS tenant_id,
  concat('agent-', leftPad(toString(${agent}), 3, '0')) AS agent_id,
  concat('agent-', leftPad(toString(${agent}), 3, '0'), '@tenant-', leftPad(toString(${agent} % 50), 2, '0')) AS subject,
  'jwt' AS auth_method,
  'crm:read' AS scope_required,
  ['crm:read', 'crm:write'] AS scopes_granted,
  multiIf(${outcomeDraw} < 900, 'ok', ${outcomeDraw} < 950, 'tool_error', ${outcomeDraw} < 980, 'system_error', ${outcomeDraw} < 990, 'deadline_exceeded', ${outcomeDraw} < 995, 'rate_limited', 'upstream_unavailable') AS outcome,
  multiIf(${outcomeDraw} < 950, '', ${outcomeDraw} < 980, 'UpstreamError', ${outcomeDraw} < 990, 'DeadlineError', ${outcomeDraw} < 995, 'RateLimitError', 'CircuitOpenError') AS error_class,
  multiIf(${outcomeDraw} < 950, '', ${outcomeDraw} < 980, 'upstream_503', ${outcomeDraw} < 990, 'budget_exhausted', ${outcomeDraw} < 995, 'rate_limited', 'circuit_open') AS error_code,
  toFloat32(round(3 + exp((${H(7)} % 1000) / 160.0), 3)) AS duration_ms,
  toUInt16(1 + ${H(8)} % 3) AS upstream_calls,
  toUInt16(if(${H(8)} % 17 = 0, 1, 0)) AS upstream_retries,
  toUInt32(20000) AS budget_ms_total,
  toUInt32(least(20000, round(3 + exp((${H(7)} % 1000) / 160.0)))) AS budget_ms_used,
  toUInt8(if(${H(10)} % 500 = 0, 1, 0)) AS auth_refresh,
  toUInt8(0) AS auth_refresh_failed,
  '' AS auth_refresh_reason,
  ${outcomeDraw} >= 990 AND ${outcomeDraw} < 995 AS rate_limited,
  if(${outcomeDraw} >= 990 AND ${outcomeDraw} < 995, 'agent', '') AS rate_limit_budget,
  if(${H(6)} % 30 < 10, toString(generateUUIDv4(number + 1)), '') AS idempotency_key,
  false AS idempotent_replay,
  concat('{"customer_id":{"type":"string","len":8,"sha256_8":"', lower(hex(toUInt32(${H(11)} % 4294967296))), '"},"query":{"type":"string","len":', toString(10 + ${H(12)} % 50), ',"sha256_8":"', lower(hex(toUInt32(${H(12)} % 4294967296))), '"}}') AS args_summary
FROM numbers(${rows})`;
}

/**
 * `calls` SERVER spans plus one CLIENT child each (2 × calls spans). With `rows` (the tool_calls
 * count), span N starts at call N's `ts`, as live data does (the record and its span begin
 * together), so trace reads bounded by the spans' time window find the call; without it, spans
 * spread over the last `days` days.
 */
export function spansInsert(calls, rows, days = 7) {
  const ms = days * 86_400_000;
  const startMs = rows
    ? `toInt64(toUnixTimestamp64Milli(now64(3)) - intDiv(number * 2592000000, ${rows}) - ${H(9)} % 250)`
    : `toInt64(toUnixTimestamp64Milli(now64(3)) - intDiv(number * ${ms}, ${calls}))`;
  const server = `
SELECT
  fromUnixTimestamp64Nano(${startMs} * 1000000) AS Timestamp,
  lower(concat(hex(sipHash64(number, 3)), hex(sipHash64(number, 4)))) AS TraceId,
  lower(hex(sipHash64(number, 5))) AS SpanId,
  '' AS ParentSpanId,
  '' AS TraceState,
  concat('tools/call tool_', leftPad(toString(sipHash64(number, 6) % 30), 2, '0')) AS SpanName,
  'Server' AS SpanKind,
  'crm-mcp' AS ServiceName,
  map('service.name', 'crm-mcp', 'service.version', '1.4.2', 'host.name', concat('mcp-', toString(number % 4))) AS ResourceAttributes,
  'mcptrail' AS ScopeName,
  '0.1.0' AS ScopeVersion,
  map('mcp.method.name', 'tools/call', 'gen_ai.tool.name', concat('tool_', leftPad(toString(sipHash64(number, 6) % 30), 2, '0')), 'gen_ai.operation.name', 'execute_tool',
      'network.transport', 'tcp', 'jsonrpc.request.id', toString(number % 100000), 'mcp.protocol.version', '2025-06-18',
      'mcptrail.tenant_id', concat('tenant-', leftPad(toString(sipHash64(number, 1) % 200 % 50), 2, '0')),
      'mcptrail.agent_id', concat('agent-', leftPad(toString(sipHash64(number, 1) % 200), 3, '0')),
      'mcptrail.call_id', toString(generateUUIDv4(number))) AS SpanAttributes,
  toUInt64((3 + exp((sipHash64(number, 7) % 1000) / 160.0)) * 1000000) AS Duration,
  if(sipHash64(number, 2) % 1000 >= 950, 'Error', 'Unset') AS StatusCode,
  if(sipHash64(number, 2) % 1000 >= 950, 'tool_error', '') AS StatusMessage
FROM numbers(${calls})`;
  const client = `
SELECT
  fromUnixTimestamp64Nano(${startMs} * 1000000 + 250000) AS Timestamp,
  lower(concat(hex(sipHash64(number, 3)), hex(sipHash64(number, 4)))) AS TraceId,
  lower(hex(sipHash64(number, 13))) AS SpanId,
  lower(hex(sipHash64(number, 5))) AS ParentSpanId,
  '' AS TraceState,
  'GET' AS SpanName,
  'Client' AS SpanKind,
  'crm-mcp' AS ServiceName,
  map('service.name', 'crm-mcp', 'service.version', '1.4.2', 'host.name', concat('mcp-', toString(number % 4))) AS ResourceAttributes,
  'mcptrail-upstream' AS ScopeName,
  '0.1.0' AS ScopeVersion,
  map('http.request.method', 'GET', 'server.address', 'crm.example', 'url.full', concat('https://crm.example/v1/customers/', toString(sipHash64(number, 11) % 100000)),
      'http.response.status_code', '200') AS SpanAttributes,
  toUInt64((2 + exp((sipHash64(number, 7) % 1000) / 170.0)) * 1000000) AS Duration,
  'Unset' AS StatusCode,
  '' AS StatusMessage
FROM numbers(${calls})`;
  const cols = 'Timestamp, TraceId, SpanId, ParentSpanId, TraceState, SpanName, SpanKind, ServiceName, ResourceAttributes, ScopeName, ScopeVersion, SpanAttributes, Duration, StatusCode, StatusMessage';
  return [`INSERT INTO mcptrail.otel_traces (${cols}) ${server}`, `INSERT INTO mcptrail.otel_traces (${cols}) ${client}`];
}

/**
 * The §4 data set in a scratch directory, ready to read. With `dataDir`, it is generated there once
 * (recorded in dataset.json) and later runs with the same size copy it, so the kept copy stays as
 * ingest left it; without, it is generated afresh into the scratch directory.
 * Returns the open store, the generation times and `close()` (closes and removes the scratch copy).
 */
export async function openDataset({ rows, spanCalls, dataDir, scratchPrefix, openEmbeddedStore, migrate }) {
  const dir = mkdtempSync(join(tmpdir(), scratchPrefix));
  let genCallsMs;
  let genSpansMs;
  const generate = async (store) => {
    await migrate(store);
    const t0 = performance.now();
    await store.exec(toolCallsInsert(rows));
    genCallsMs = performance.now() - t0;
    const t1 = performance.now();
    for (const sql of spansInsert(spanCalls, rows)) await store.exec(sql);
    genSpansMs = performance.now() - t1;
  };
  if (dataDir) {
    const marker = join(dataDir, 'dataset.json');
    let kept = existsSync(marker) ? JSON.parse(readFileSync(marker, 'utf8')) : undefined;
    if (kept?.rows !== rows || kept?.spanCalls !== spanCalls) {
      rmSync(dataDir, { recursive: true, force: true });
      const gen = await openEmbeddedStore(join(dataDir, 'clickhouse'));
      try {
        await generate(gen);
      } finally {
        await gen.close();
      }
      kept = { rows, spanCalls, generatedAt: new Date().toISOString(), genCallsMs, genSpansMs };
      writeFileSync(marker, JSON.stringify(kept, null, 2));
    } else {
      ({ genCallsMs, genSpansMs } = kept);
      const ageH = (Date.now() - Date.parse(kept.generatedAt)) / 3_600_000;
      console.error(`bench: reusing ${dataDir} (${rows} rows, generated ${kept.generatedAt}, ${ageH.toFixed(1)} h ago)`);
    }
    cpSync(join(dataDir, 'clickhouse'), join(dir, 'clickhouse'), { recursive: true });
  }
  const store = await openEmbeddedStore(join(dir, 'clickhouse'));
  if (dataDir) await migrate(store); // no-op on the kept data; applies any newer migration to the copy
  else await generate(store);
  return {
    store,
    dir,
    genCallsMs,
    genSpansMs,
    async close() {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
