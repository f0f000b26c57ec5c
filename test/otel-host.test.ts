/**
 * A host that starts NodeSDK first, then instruments its server in one line
 * (issue 12): mcptrail joins the running SDK instead of registering a second
 * provider (which the API refuses), so its spans reach the collector's real
 * `/v1/traces` (embedded store) and its `mcp.server.operation.duration`
 * reaches an OTLP metrics receiver — and the host's own exporters get them too.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { context, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { AggregationTemporality, InMemoryMetricExporter, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { z } from 'zod';
import { flush, instrument, shutdown } from '../packages/mcptrail/src/instrument/index.js';
import { MCP_DURATION_BUCKETS_S } from '../packages/mcptrail/src/telemetry/semconv.js';
import { TABLES } from '../packages/collector/src/store/index.js';
import { startTestCollector, type TestCollector } from './support/reliability-collector.js';
import { attr, startMetricsReceiver, type MetricsReceiver } from './support/otlp-metrics-receiver.js';

let collector: TestCollector;
let receiver: MetricsReceiver;
let spoolDir: string;
let sdk: NodeSDK;
const hostSpans = new InMemorySpanExporter();
const hostMetrics = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
const hostReader = new PeriodicExportingMetricReader({ exporter: hostMetrics, exportIntervalMillis: 3_600_000 });
let client: Client;

before(async () => {
  collector = await startTestCollector();
  receiver = await startMetricsReceiver();
  spoolDir = mkdtempSync(join(tmpdir(), 'mcptrail-otel-host-'));
  // The host's own telemetry, started first, as most Node services do.
  sdk = new NodeSDK({ serviceName: 'host-svc', spanProcessors: [new SimpleSpanProcessor(hostSpans)], metricReaders: [hostReader], logRecordProcessors: [], instrumentations: [] });
  sdk.start();
  // An operator's per-signal variable: metrics to the stand-in receiver, spans and records to the collector.
  process.env.OTEL_EXPORTER_OTLP_METRICS_ENDPOINT = `${receiver.url}/v1/metrics`;

  const server = new McpServer({ name: 'host-mcp', version: '1.0.0' });
  server.registerTool('echo', { inputSchema: { text: z.string() } }, async ({ text }) => ({ content: [{ type: 'text' as const, text }] }));
  server.registerTool('nope', { inputSchema: {} }, async () => ({ content: [{ type: 'text' as const, text: 'no such thing' }], isError: true }));
  instrument(server, { collectorUrl: collector.base, spoolDir, handleSignals: false });

  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  // What requireBearerAuth leaves on the request: the SDK's AuthInfo.
  const send = clientSide.send.bind(clientSide);
  clientSide.send = (message, options) =>
    send(message, { ...options, authInfo: { token: 't', clientId: 'agent-7', scopes: ['crm:read'], extra: { tenant_id: 'acme' } } });
  client = new Client({ name: 'host-test', version: '1.0.0' });
  await server.connect(serverSide);
  await client.connect(clientSide);
});

after(async () => {
  await client.close();
  await shutdown();
  await sdk.shutdown();
  await receiver.close();
  await collector.close();
  delete process.env.OTEL_EXPORTER_OTLP_METRICS_ENDPOINT;
  rmSync(spoolDir, { recursive: true, force: true });
});

test('spans, records and metrics of a NodeSDK host reach the collector, and the host keeps its own copy', async () => {
  // The host's request span, carried to the server in _meta (SEP-414).
  const hostTracer = trace.getTracer('host-http');
  const parent = hostTracer.startSpan('POST /mcp');
  const meta: Record<string, string> = {};
  new W3CTraceContextPropagator().inject(trace.setSpan(context.active(), parent), meta, { set: (c, k, v) => ((c as Record<string, string>)[k] = v) });
  await client.callTool({ name: 'echo', arguments: { text: 'hi' }, _meta: meta });
  await client.callTool({ name: 'nope', arguments: {}, _meta: meta });
  parent.end();
  const traceId = parent.spanContext().traceId;

  await flush();

  const spans = await collector.store.query<{ SpanName: string; SpanKind: string; ServiceName: string; ScopeName: string; ParentSpanId: string }>(
    `SELECT SpanName, SpanKind, ServiceName, ScopeName, ParentSpanId FROM ${TABLES.otelTraces} WHERE TraceId = {t:String} ORDER BY SpanName`,
    { t: traceId },
  );
  assert.deepEqual(spans.map((s) => s.SpanName), ['tools/call echo', 'tools/call nope'], 'only mcptrail\'s spans go to the collector (not the host\'s own)');
  for (const s of spans) {
    assert.equal(s.SpanKind, 'Server');
    assert.equal(s.ServiceName, 'host-svc', "the host SDK's resource");
    assert.equal(s.ScopeName, 'mcptrail');
    assert.equal(s.ParentSpanId, parent.spanContext().spanId);
  }
  assert.ok(hostSpans.getFinishedSpans().some((s) => s.name === 'tools/call echo'), "the host's own exporter gets mcptrail's spans too");

  const records = await collector.store.query<{ tool: string; agent_id: string; tenant_id: string; auth_method: string; outcome: string; trace_id: string }>(
    `SELECT tool, agent_id, tenant_id, auth_method, outcome, trace_id FROM ${TABLES.toolCalls} WHERE trace_id = {t:String} ORDER BY tool`,
    { t: traceId },
  );
  assert.deepEqual(
    records.map(({ tool, agent_id, tenant_id, auth_method, outcome }) => ({ tool, agent_id, tenant_id, auth_method, outcome })),
    [
      { tool: 'echo', agent_id: 'agent-7', tenant_id: 'acme', auth_method: 'bearer', outcome: 'ok' },
      { tool: 'nope', agent_id: 'agent-7', tenant_id: 'acme', auth_method: 'bearer', outcome: 'tool_error' },
    ],
  );

  await receiver.waitFor('mcp.server.operation.duration');
  const durations = receiver.metrics().filter((m) => m.metric.name === 'mcp.server.operation.duration');
  const metric = durations.at(-1)!.metric;
  assert.equal(metric.unit, 's');
  const points = metric.histogram!.dataPoints;
  const echo = points.find((p) => attr(p.attributes, 'gen_ai.tool.name') === 'echo')!;
  const nope = points.find((p) => attr(p.attributes, 'gen_ai.tool.name') === 'nope')!;
  assert.ok(echo && nope, JSON.stringify(points));
  assert.equal(attr(echo.attributes, 'mcp.method.name'), 'tools/call');
  assert.equal(attr(echo.attributes, 'error.type'), undefined, 'error.type only on failures');
  assert.equal(attr(nope.attributes, 'error.type'), 'tool_error');
  assert.equal(attr(echo.attributes, 'mcptrail.tenant_id'), undefined, 'no tenant label unless configured');
  assert.deepEqual(echo.explicitBounds, [...MCP_DURATION_BUCKETS_S]);
  assert.equal(Number(echo.count), 1);

  // The host's MeterProvider records them as well (its reader, its backend).
  await hostReader.forceFlush();
  const hostNames = hostMetrics.getMetrics().flatMap((rm) => rm.scopeMetrics.flatMap((sm) => sm.metrics.map((m) => m.descriptor.name)));
  assert.ok(hostNames.includes('mcp.server.operation.duration'), hostNames.join(', '));
});
