/**
 * A host that wires mcptrail into its own NodeSDK configuration
 * (`mcptrailSpanProcessor()`, `mcptrailMetricReader()`), then instruments in
 * one line: instrument() sees its processor already there and adds no
 * second one (each span stored once), and metrics go out through the host's
 * MeterProvider with mcptrail's reader.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { randomBytes } from 'node:crypto';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { flush, instrument, shutdown } from '../packages/mcptrail/src/instrument/index.js';
import { mcptrailMetricReader, mcptrailSpanProcessor } from '../packages/mcptrail/src/telemetry/index.js';
import { spanProcessorList, registeredTracerProvider } from '../packages/mcptrail/src/telemetry/otel-internals.js';
import { TABLES } from '../packages/collector/src/store/index.js';
import { startTestCollector, type TestCollector } from './support/reliability-collector.js';
import { attr, startMetricsReceiver, type MetricsReceiver } from './support/otlp-metrics-receiver.js';

let collector: TestCollector;
let receiver: MetricsReceiver;
let sdk: NodeSDK;
let dir: string;

before(async () => {
  collector = await startTestCollector();
  receiver = await startMetricsReceiver();
  dir = mkdtempSync(join(tmpdir(), 'mcptrail-otel-helpers-'));
  process.env.OTEL_EXPORTER_OTLP_METRICS_ENDPOINT = `${receiver.url}/v1/metrics`;
  sdk = new NodeSDK({
    serviceName: 'helper-host',
    spanProcessors: [mcptrailSpanProcessor({ collectorUrl: collector.base, spoolDir: join(dir, 'spans') })],
    metricReaders: [mcptrailMetricReader({ collectorUrl: collector.base, metricExportIntervalMs: 3_600_000 })],
    logRecordProcessors: [],
    instrumentations: [],
  });
  sdk.start();
});
after(async () => {
  await shutdown();
  await sdk.shutdown();
  await receiver.close();
  await collector.close();
  delete process.env.OTEL_EXPORTER_OTLP_METRICS_ENDPOINT;
  rmSync(dir, { recursive: true, force: true });
});

test("the host's own wiring: one processor, each span stored once, metrics through the host's MeterProvider", async () => {
  const server = new McpServer({ name: 'helper-mcp', version: '1.0.0' });
  server.registerTool('ping', { inputSchema: {} }, async () => ({ content: [{ type: 'text' as const, text: 'pong' }] }));
  instrument(server, { collectorUrl: collector.base, spoolDir: join(dir, 'records'), handleSignals: false });
  assert.equal(spanProcessorList(registeredTracerProvider()!)!.length, 1, 'no second mcptrail processor');

  const [a, b] = InMemoryTransport.createLinkedPair();
  const client = new Client({ name: 'helper-agent', version: '1.0.0' });
  await server.connect(b);
  await client.connect(a);
  const traceId = randomBytes(16).toString('hex');
  await client.callTool({ name: 'ping', arguments: {}, _meta: { traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01` } });
  await client.close();
  await flush();
  await sdk.shutdown(); // the host flushes its processors (ours among them) and readers

  const spans = await collector.store.query<{ SpanName: string; ServiceName: string }>(
    `SELECT SpanName, ServiceName FROM ${TABLES.otelTraces} WHERE TraceId = {t:String}`,
    { t: traceId },
  );
  assert.deepEqual(spans, [{ SpanName: 'tools/call ping', ServiceName: 'helper-host' }]);
  await receiver.waitFor('mcp.server.operation.duration');
  const metric = receiver.metrics().find((m) => m.metric.name === 'mcp.server.operation.duration')!;
  assert.equal(metric.service, 'helper-host', "exported with the host's resource");
  assert.equal(attr(metric.metric.histogram!.dataPoints[0]!.attributes, 'gen_ai.tool.name'), 'ping');
});
