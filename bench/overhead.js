/**
 * §1 Per-call overhead in-process. One worker process per variant (each
 * owns its global tracer provider); the same trivial tool, the official v1
 * Client and McpServer over an InMemoryTransport pair, so the JSON-RPC path
 * (serialisation-free, but schema validation, request routing, promises) is
 * the SDK's own. Variants run in shuffled order, round after round, one at a
 * time (2 cores), after a warm-up; latencies of every call are pooled.
 *
 * The `…+2026` variants are the MCP 2026-07-28 era: the official v2 client
 * pinned to 2026-07-28 calling the v2 `createMcpHandler` (a fresh McpServer
 * per request, as stateless serving builds them) through `fetch` handed
 * straight to the handler (no socket); their added cost is measured against
 * `bare+2026`.
 *
 *   node bench/overhead.js              orchestrator (prints JSON, sends it over IPC)
 *   node bench/overhead.js worker NAME  one variant
 */
import { BASELINES, mcptrailFor, QUICK, cpuMicros, discardingExporter, fmt, median, shuffle, spawnWorker, serveWorker, startDiscardServer, summarize } from './lib.js';

// BENCH_VARIANTS=bare,mcptrail,... runs only those (a focused before/after run); bare and mcptrail are always kept.
const MODERN = '+2026';
const ALL_VARIANTS = [
  'bare',
  'mcptrail',
  ...BASELINES.map((b) => b.variant),
  'sentry',
  'traceloop',
  'otel-span',
  `bare${MODERN}`,
  `mcptrail${MODERN}`,
  ...BASELINES.map((b) => `${b.variant}${MODERN}`),
];
const only = process.env.BENCH_VARIANTS?.split(',');
export const VARIANTS = only ? ALL_VARIANTS.filter((v) => v === 'bare' || v === 'mcptrail' || only.includes(v)) : ALL_VARIANTS;
/** The bare variant a variant's added cost is measured against: its own era's. */
const bareOf = (v) => (v.endsWith(MODERN) ? `bare${MODERN}` : 'bare');
const mcptrailOf = (v) => (v.endsWith(MODERN) ? `mcptrail${MODERN}` : 'mcptrail');

const PRINCIPAL = { tenantId: 'tenant-01', agentId: 'agent-001', subject: 'agent-001', scopes: ['bench:read'], method: 'api_key' };
const AUTH_INFO = { token: 'k', clientId: 'agent-001', scopes: ['bench:read'], extra: { principal: PRINCIPAL } };
const ARGS = { text: 'hello world', customer_id: 'C-000123' };

if (process.argv[2] === 'worker') await worker(process.argv[3]);
else if (import.meta.url === `file://${process.argv[1]}`) {
  const result = await orchestrate();
  console.log(JSON.stringify(result, null, 2));
  process.send?.({ result });
}

export async function orchestrate({ rounds = QUICK ? 3 : Number(process.env.BENCH_ROUNDS ?? 30), perRound = QUICK ? 200 : 2000, warmup = QUICK ? 500 : 5000 } = {}) {
  const sink = await startDiscardServer(); // mcptrail's shipper posts its batches here
    // BENCH_PROF_DIR=dir: each worker writes a V8 CPU profile there (for `node bench/prof-top.js`).
  const prof = process.env.BENCH_PROF_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROF_DIR}`] : [];
  const workers = Object.fromEntries(VARIANTS.map((v) => [v, spawnWorker('overhead.js', ['worker', v], { execArgv: prof, env: { ...process.env, SINK_URL: sink.url } })]));
  const lat = Object.fromEntries(VARIANTS.map((v) => [v, []]));
  const cpu = Object.fromEntries(VARIANTS.map((v) => [v, 0]));
  const roundMedians = Object.fromEntries(VARIANTS.map((v) => [v, []]));
  for (const v of VARIANTS) await workers[v].ask({ cmd: 'setup' });
  for (const v of VARIANTS) await workers[v].ask({ cmd: 'run', n: warmup });
  for (let r = 0; r < rounds; r++) {
    for (const v of shuffle(VARIANTS)) {
      const { latencies, cpuUs } = await workers[v].ask({ cmd: 'run', n: perRound });
      for (const x of latencies) lat[v].push(x);
      cpu[v] += cpuUs;
      roundMedians[v].push(median(latencies));
    }
  }
  const checks = {};
  for (const v of VARIANTS) checks[v] = await workers[v].ask({ cmd: 'check' });
  await Promise.all(VARIANTS.map((v) => workers[v].stop()));
  await sink.close();

  const calls = rounds * perRound;
  const rows = {};
  for (const v of VARIANTS) {
    const s = summarize(lat[v]);
    rows[v] = { ...s, cpuPerCallUs: cpu[v] / calls, ...checks[v] };
  }
  for (const v of VARIANTS) {
    const r = rows[v];
    const bare = bareOf(v);
    const base = rows[bare] ?? rows.bare;
    r.addedP50 = r.p50 - base.p50;
    r.addedP99 = r.p99 - base.p99;
    r.addedCpu = r.cpuPerCallUs - base.cpuPerCallUs;
    // Paired per-round estimate: rounds share the machine's state, so their differences are less noisy.
    r.addedP50Paired = median(roundMedians[v].map((m, i) => m - (roundMedians[bare] ?? roundMedians.bare)[i]));
  }
  for (const v of VARIANTS) {
    const r = rows[v];
    const ref = rows[mcptrailOf(v)] ?? rows.mcptrail;
    r.ratioToMcptrail = r.addedP50Paired / ref.addedP50Paired;
    r.cpuRatioToMcptrail = r.addedCpu / ref.addedCpu;
  }
  return { rounds, perRound, warmup, calls, sinkRequests: sink.stats.requests, rows };
}

export function table(result) {
  const label = {
    bare: '(a) bare SDK v1 McpServer',
    mcptrail: '(b) mcptrail `instrument()` full pipeline',
    sentry: '(c) @sentry/node `wrapMcpServerWithSentry`',
    traceloop: '(d) @traceloop/instrumentation-mcp',
    'otel-span': '(e) hand-written OTel span',
  };
  for (const b of BASELINES) label[b.variant] = `(b′) mcptrail, build \`${b.name}\` (BENCH_BASELINE)`;
  label[`bare${MODERN}`] = '(f) bare SDK v2, MCP 2026-07-28 (`createMcpHandler`, v2 client pinned)';
  label[`mcptrail${MODERN}`] = '(g) mcptrail `instrument()`, MCP 2026-07-28';
  for (const b of BASELINES) label[`${b.variant}${MODERN}`] = `(g′) mcptrail, build \`${b.name}\`, MCP 2026-07-28 (BENCH_BASELINE)`;
  const lines = ['| variant | p50 µs | p99 µs | added p50 µs (paired) | added p99 µs | CPU µs/call | added CPU µs/call | added p50 ÷ mcptrail | added CPU ÷ mcptrail | spans/call | records/call |', '|---|---|---|---|---|---|---|---|---|---|---|'];
  for (const v of Object.keys(result.rows)) {
    const r = result.rows[v];
    if (!r) continue;
    if (!label[v]) label[v] = `(b′) mcptrail, build \`${v.slice('mcptrail@'.length)}\``;
    const isBare = v === bareOf(v);
    const isRef = v === mcptrailOf(v);
    const rel = isBare ? '—' : isRef ? '1.00' : fmt(r.ratioToMcptrail, 2);
    const relCpu = isBare ? '—' : isRef ? '1.00' : fmt(r.cpuRatioToMcptrail, 2);
    lines.push(`| ${label[v]} | ${fmt(r.p50)} | ${fmt(r.p99)} | ${isBare ? '—' : fmt(r.addedP50Paired)} | ${isBare ? '—' : fmt(r.addedP99)} | ${fmt(r.cpuPerCallUs)} | ${isBare ? '—' : fmt(r.addedCpu)} | ${rel} | ${relCpu} | ${fmt(r.spansPerCall, 2)} | ${fmt(r.recordsPerCall, 2)} |`);
  }
  return lines.join('\n');
}

// ---------------------------------------------------------------- worker

async function worker(variant) {
  if (variant.endsWith(MODERN)) return modernWorker(variant.slice(0, -MODERN.length));
  const exporter = discardingExporter();
  let records = 0;
  let sentrySpans = 0;
  let calls = 0;
  let teardown = async () => {};

  // Each variant sets up its telemetry before the SDK modules are loaded, as its docs ask.
  if (variant === 'sentry') {
    const Sentry = await import('@sentry/node');
    const { createTransport } = await import('@sentry/core');
    Sentry.init({
      dsn: 'http://public@127.0.0.1:9/1', // never contacted: the transport below drops every envelope
      tracesSampleRate: 1,
      // Envelopes are built and serialised as usual, then dropped here.
      transport: (options) => createTransport(options, async () => ({ statusCode: 200 })),
    });
    // Sentry 11 streams spans (traceLifecycle 'stream'); count them as they end.
    Sentry.getClient().on('spanEnd', () => sentrySpans++);
    teardown = () => Sentry.close(2000);
  } else if (variant !== 'bare') {
    const { NodeTracerProvider, BatchSpanProcessor } = await import('@opentelemetry/sdk-trace-node');
    const provider = new NodeTracerProvider({ spanProcessors: [new BatchSpanProcessor(exporter)] });
    provider.register();
    teardown = () => provider.shutdown();
  }

  const { z } = await import('zod');
  const { McpServer } = await import('@modelcontextprotocol/sdk/server/mcp.js');
  const { Client } = await import('@modelcontextprotocol/sdk/client/index.js');
  const { InMemoryTransport } = await import('@modelcontextprotocol/sdk/inMemory.js');

  if (variant === 'traceloop') {
    const { McpInstrumentation } = await import('@traceloop/instrumentation-mcp');
    const { Server } = await import('@modelcontextprotocol/sdk/server/index.js');
    new McpInstrumentation().manuallyInstrument({ Client, Server }); // ESM: its require hook never sees the SDK
  }

  let server = new McpServer({ name: 'bench', version: '1.0.0' });
  let handler = async ({ text }) => ({ content: [{ type: 'text', text }] });

  if (variant === 'otel-span') {
    const { trace, SpanKind } = await import('@opentelemetry/api');
    const tracer = trace.getTracer('hand-written');
    const inner = handler;
    handler = (args, extra) =>
      tracer.startActiveSpan('tools/call echo', { kind: SpanKind.SERVER, attributes: { 'mcp.method.name': 'tools/call', 'gen_ai.tool.name': 'echo', 'jsonrpc.request.id': String(extra.requestId) } }, async (span) => {
        try {
          return await inner(args, extra);
        } finally {
          span.end();
        }
      });
  }
  if (variant === 'sentry') {
    const Sentry = await import('@sentry/node');
    server = Sentry.wrapMcpServerWithSentry(server);
  }
  if (variant.startsWith('mcptrail')) {
    const { instrument, createRecordSink, createLogger, createShipper } = await import(mcptrailFor(variant));
    const { Writable } = await import('node:stream');
    // pino writes every record line into a stream that drops it; the shipper posts NDJSON batches to a local sink.
    const devNull = new Writable({ write(_c, _e, cb) { cb(); } });
    const shipper = createShipper({ url: `${process.env.SINK_URL}/v1/records` });
    const sink = createRecordSink({ logger: createLogger({ destination: devNull }), shipper });
    const counting = { emit: (r) => { records++; sink.emit(r); }, flush: () => sink.flush(), close: () => sink.close() };
    instrument(server, { service: 'bench', sink: counting, tools: { echo: { scope: 'bench:read', version: '1', redact: { allow: ['text'] } } } });
    const prev = teardown;
    teardown = async () => { await sink.close(); await prev(); };
  }
  server.registerTool('echo', { description: 'echo', inputSchema: { text: z.string(), customer_id: z.string() } }, handler);

  const [clientT, serverT] = InMemoryTransport.createLinkedPair();
  // The principal travels as the HTTP layer would attach it: authInfo.extra.principal.
  const send = clientT.send.bind(clientT);
  clientT.send = (message, options) => send(message, { ...options, authInfo: AUTH_INFO });
  const client = new Client({ name: 'bench-agent', version: '1.0.0' });
  await server.connect(serverT);
  await client.connect(clientT);

  serveWorker({
    async setup() {
      const r = await client.callTool({ name: 'echo', arguments: ARGS });
      if (r.isError || !r.content?.[0]?.text?.includes(ARGS.text)) throw new Error(`${variant}: unexpected result ${JSON.stringify(r)}`);
      return { ok: true };
    },
    async run({ n }) {
      const latencies = new Array(n);
      const c0 = cpuMicros();
      for (let i = 0; i < n; i++) {
        const t0 = performance.now();
        await client.callTool({ name: 'echo', arguments: ARGS });
        latencies[i] = (performance.now() - t0) * 1000;
      }
      calls += n;
      return { latencies, cpuUs: cpuMicros() - c0 };
    },
    async check() {
      // Flush what is buffered so the counts cover every call.
      const before = calls + 1; // + the setup call
      await teardown();
      teardown = async () => {};
      const spans = variant === 'sentry' ? sentrySpans : exporter.spans;
      return { spansPerCall: spans / before, recordsPerCall: records / before };
    },
  });
}

/** The MCP 2026-07-28 variants: the v2 client pinned to 2026-07-28 → `createMcpHandler` (fetch handed straight to it). */
async function modernWorker(variant) {
  const exporter = discardingExporter();
  let records = 0;
  let calls = 0;
  let teardown = async () => {};
  if (variant !== 'bare') {
    const { NodeTracerProvider, BatchSpanProcessor } = await import('@opentelemetry/sdk-trace-node');
    const provider = new NodeTracerProvider({ spanProcessors: [new BatchSpanProcessor(exporter)] });
    provider.register();
    teardown = () => provider.shutdown();
  }
  const { z } = await import('zod');
  const { McpServer, createMcpHandler } = await import('@modelcontextprotocol/server');
  const { Client, StreamableHTTPClientTransport } = await import('@modelcontextprotocol/client');
  const handler = async ({ text }) => ({ content: [{ type: 'text', text }] });
  let instrumentServer = (s) => s;
  if (variant.startsWith('mcptrail')) {
    const { instrument, createRecordSink, createLogger, createShipper } = await import(mcptrailFor(variant));
    const { Writable } = await import('node:stream');
    const devNull = new Writable({ write(_c, _e, cb) { cb(); } });
    const shipper = createShipper({ url: `${process.env.SINK_URL}/v1/records` });
    const sink = createRecordSink({ logger: createLogger({ destination: devNull }), shipper });
    const counting = { emit: (r) => { records++; sink.emit(r); }, flush: () => sink.flush(), close: () => sink.close() };
    // One options object: compiled once, shared by every per-request server.
    const options = { service: 'bench', sink: counting, tools: { echo: { scope: 'bench:read', version: '1', redact: { allow: ['text'] } } } };
    instrumentServer = (s) => instrument(s, options);
    const prev = teardown;
    teardown = async () => { await sink.close(); await prev(); };
  }
  const mcp = createMcpHandler(() => {
    const server = instrumentServer(new McpServer({ name: 'bench', version: '1.0.0' }));
    server.registerTool('echo', { description: 'echo', inputSchema: z.object({ text: z.string(), customer_id: z.string() }) }, handler);
    return server;
  });
  // The principal travels as mcptrail's HTTP host attaches it (authInfo.extra.principal).
  const fetchToHandler = (url, init) => mcp.fetch(new Request(url, init), { authInfo: AUTH_INFO });
  const client = new Client({ name: 'bench-agent', version: '1.0.0' }, { versionNegotiation: { mode: { pin: '2026-07-28' } } });
  await client.connect(new StreamableHTTPClientTransport(new URL('http://bench.invalid/mcp'), { fetch: fetchToHandler }));

  serveWorker({
    async setup() {
      const r = await client.callTool({ name: 'echo', arguments: ARGS });
      if (r.isError || !r.content?.[0]?.text?.includes(ARGS.text) || client.getNegotiatedProtocolVersion() !== '2026-07-28') throw new Error(`${variant}+2026: unexpected result ${JSON.stringify(r)}`);
      return { ok: true };
    },
    async run({ n }) {
      const latencies = new Array(n);
      const c0 = cpuMicros();
      for (let i = 0; i < n; i++) {
        const t0 = performance.now();
        await client.callTool({ name: 'echo', arguments: ARGS });
        latencies[i] = (performance.now() - t0) * 1000;
      }
      calls += n;
      return { latencies, cpuUs: cpuMicros() - c0 };
    },
    async check() {
      const before = calls + 1;
      await teardown();
      teardown = async () => {};
      return { spansPerCall: exporter.spans / before, recordsPerCall: records / before };
    },
  });
}
