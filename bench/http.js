/**
 * §2 End to end over Streamable HTTP (stateless, JSON responses): N
 * concurrent keep-alive clients post `tools/call` to (a) a bare fastify + SDK v1
 * server built the same way createMcpHttpApp builds it (fresh McpServer +
 * transport per request), (b) mcptrail's createMcpHttpApp with API-key auth,
 * instrument(), a tracer provider (BatchSpanProcessor, discarding exporter)
 * and a RecordSink (pino to a discarding stream + shipper to a local sink).
 * Each server is its own process; this process is the load generator.
 * Variants alternate in short windows, after a warm-up. The `…+2026`
 * variants are the MCP 2026-07-28 era: the same server on the v2 SDK's
 * `createMcpHandler` (bare: fastify handing it the parsed body, as
 * createMcpHttpApp does; mcptrail: createMcpHttpApp with a v2 factory), and
 * requests with the per-request `_meta` envelope and the
 * MCP-Protocol-Version / Mcp-Method / Mcp-Name headers.
 *
 *   node bench/http.js                 orchestrator + load generator
 *   node bench/http.js server VARIANT  one server
 */
import { Agent, request } from 'node:http';
import { loadavg } from 'node:os';
import { pathToFileURL } from 'node:url';
import { BASELINES, mcptrailFor, QUICK, fmt, spawnWorker, serveWorker, startDiscardServer, summarize, sleep } from './lib.js';

const API_KEY = 'bench-key-0123456789';
const MODERN = '+2026';
const ENVELOPE = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientCapabilities': {},
  'io.modelcontextprotocol/clientInfo': { name: 'bench-agent', version: '1.0.0' },
};
const BODY = (id, modern) =>
  JSON.stringify({
    jsonrpc: '2.0',
    id,
    method: 'tools/call',
    params: { name: 'echo', arguments: { text: 'hello world', customer_id: 'C-000123' }, ...(modern ? { _meta: ENVELOPE } : {}) },
  });
const ERA_HEADERS = {
  legacy: { 'mcp-protocol-version': '2025-06-18' },
  modern: { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'echo' },
};

if (process.argv[2] === 'server') await server(process.argv[3]);
else if (import.meta.url === `file://${process.argv[1]}`) {
  const result = await orchestrate();
  console.log(JSON.stringify(result, null, 2));
  process.send?.({ result });
}

export async function orchestrate({ concurrency = 16, windowMs = QUICK ? 2000 : 8000, rounds = QUICK ? 1 : 3, warmupMs = QUICK ? 1000 : 4000 } = {}) {
  const sink = await startDiscardServer();
  const loadBefore = loadavg()[0];
  const legacy = ['bare', 'mcptrail', 'sentry', ...BASELINES.slice(0, 1).map((b) => b.variant)];
  const only = process.env.BENCH_ERAS?.split(',') ?? ['legacy', 'modern'];
  // BENCH_HTTP_VARIANTS=bare,mcptrail,mcptrail-memq,...: only those (bare always kept). `mcptrail-memq` is the
  // instrumented server with the shipper's memory queue instead of the durable spool (the spool's own cost).
  const pick = process.env.BENCH_HTTP_VARIANTS?.split(',');
  const eraVariants = [...(only.includes('legacy') ? legacy : []), ...(only.includes('modern') ? legacy.filter((v) => v !== 'sentry').map((v) => `${v}${MODERN}`) : [])];
  const variants = pick ? [...new Set(['bare', ...pick])] : eraVariants;
  // BENCH_PROF_DIR=dir: each server writes a V8 CPU profile there on exit (for `node bench/prof-top.js`).
  const prof = process.env.BENCH_PROF_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROF_DIR}/http-${Date.now()}`] : [];
  const servers = Object.fromEntries(variants.map((v) => [v, spawnWorker('http.js', ['server', v], { execArgv: prof, env: { ...process.env, SINK_URL: sink.url } })]));
  const urls = {};
  for (const v of variants) urls[v] = (await servers[v].ask({ cmd: 'start' })).url;
  for (const v of variants) await load(urls[v], concurrency, warmupMs);
  const acc = Object.fromEntries(variants.map((v) => [v, { calls: 0, ms: 0, errors: 0, lat: [], cpuUs: 0 }]));
  for (let r = 0; r < rounds; r++) {
    for (const v of r % 2 ? [...variants].reverse() : variants) {
      const before = await servers[v].ask({ cmd: 'cpu' });
      const w = await load(urls[v], concurrency, windowMs);
      const after = await servers[v].ask({ cmd: 'cpu' });
      const a = acc[v];
      a.calls += w.calls;
      a.ms += w.ms;
      a.errors += w.errors;
      a.cpuUs += after.cpuUs - before.cpuUs;
      for (const x of w.lat) a.lat.push(x);
    }
  }
  const checks = {};
  for (const v of variants) checks[v] = await servers[v].ask({ cmd: 'check' });
  await Promise.all(variants.map((v) => servers[v].stop()));
  await sink.close();
  const rows = {};
  for (const v of variants) {
    const a = acc[v];
    const s = summarize(a.lat);
    rows[v] = { callsPerSec: (a.calls / a.ms) * 1000, p50Ms: s.p50 / 1000, p99Ms: s.p99 / 1000, errors: a.errors, calls: a.calls, serverCpuUsPerCall: a.cpuUs / a.calls, ...checks[v] };
  }
  const ratios = {};
  for (const v of variants) {
    const bare = v.endsWith(MODERN) ? `bare${MODERN}` : 'bare';
    if (v !== bare && rows[bare]) ratios[v] = rows[v].callsPerSec / rows[bare].callsPerSec;
  }
  const before = BASELINES[0] && rows[BASELINES[0].variant];
  return {
    load1: [loadBefore, loadavg()[0]],
    concurrency,
    windowMs,
    rounds,
    rows,
    ratios,
    ratio: rows.mcptrail && rows.bare ? rows.mcptrail.callsPerSec / rows.bare.callsPerSec : undefined,
    ...(before && { ratioBefore: before.callsPerSec / rows.bare.callsPerSec }),
  };
}

export function table(result) {
  const { rows } = result;
  const line = (name, r) => `| ${name} | ${fmt(r.callsPerSec, 0)} | ${fmt(r.p50Ms, 2)} | ${fmt(r.p99Ms, 2)} | ${fmt(r.serverCpuUsPerCall, 0)} | ${r.errors} | ${fmt(r.recordsPerCall, 2)} | ${fmt(r.spansPerCall, 2)} |`;
  const name = (v) => {
    const era = v.endsWith(MODERN) ? 'MCP 2026-07-28, SDK v2' : 'legacy, SDK v1';
    const base = v.replace(MODERN, '');
    if (base === 'bare') return `bare fastify + ${v.endsWith(MODERN) ? '`createMcpHandler`' : 'SDK transport'} (stateless; ${era})`;
    if (base === 'mcptrail') return `mcptrail \`createMcpHttpApp\` + auth + \`instrument()\` + durable spool (${era})`;
    if (base === 'mcptrail-memq') return `mcptrail, as above with the memory queue instead of the spool (${era})`;
    if (base === 'sentry') return `bare server + @sentry/node \`wrapMcpServerWithSentry\` (${era})`;
    return `mcptrail, build \`${base.slice(9)}\` (BENCH_BASELINE; ${era})`;
  };
  const out = [
    `| server (${result.concurrency} concurrent clients, ${result.rounds}×${result.windowMs / 1000} s per variant) | calls/s | p50 ms | p99 ms | server CPU µs/call | errors | records/call | spans/call |`,
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const v of Object.keys(rows)) {
    out.push(line(name(v), rows[v]));
    if (result.ratios?.[v] !== undefined) out.push(`| ${v.replace(MODERN, '')} ÷ bare (${v.endsWith(MODERN) ? '2026-07-28' : 'legacy'}) | **${fmt(result.ratios[v] * 100, 1)} %** | | | | | | |`);
  }
  return out.join('\n');
}

/** `concurrency` loops posting tools/call back to back for `ms`. */
async function load(url, concurrency, ms, modern = url.includes('era=2026')) {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const u = new URL(url);
  const lat = [];
  let calls = 0;
  let errors = 0;
  let id = 0;
  const start = performance.now();
  const end = start + ms;
  const one = () =>
    new Promise((resolve) => {
      const body = BODY(++id, modern);
      const t0 = performance.now();
      const req = request(
        {
          agent,
          host: u.hostname,
          port: u.port,
          path: u.pathname,
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            accept: 'application/json, text/event-stream',
            ...(modern ? ERA_HEADERS.modern : ERA_HEADERS.legacy),
            authorization: `Bearer ${API_KEY}`,
            'content-length': Buffer.byteLength(body),
          },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c) => (text += c));
          res.on('end', () => {
            lat.push((performance.now() - t0) * 1000);
            if (res.statusCode !== 200 || !text.includes('hello world') || text.includes('"isError":true')) errors++;
            calls++;
            resolve();
          });
        },
      );
      req.on('error', () => {
        errors++;
        resolve();
      });
      req.end(body);
    });
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) await one();
    }),
  );
  const elapsed = performance.now() - start;
  agent.destroy();
  return { calls, errors, ms: elapsed, lat };
}

// ---------------------------------------------------------------- server

async function server(fullVariant) {
  const modern = fullVariant.endsWith(MODERN);
  const variant = modern ? fullVariant.slice(0, -MODERN.length) : fullVariant;
  const exporter = (await import('./lib.js')).discardingExporter();
  let records = 0;
  let closeAll = async () => {};
  let provider;
  let Sentry;
  if (variant === 'sentry') {
    // As in §1: Sentry set up before the SDK is loaded, envelopes built and serialised, the send dropped.
    Sentry = await import('@sentry/node');
    const { createTransport } = await import('@sentry/core');
    Sentry.init({ dsn: 'http://public@127.0.0.1:9/1', tracesSampleRate: 1, transport: (options) => createTransport(options, async () => ({ statusCode: 200 })) });
    Sentry.getClient().on('spanEnd', () => records++);
    closeAll = () => Sentry.flush(2000);
  } else if (variant !== 'bare') {
    const { NodeTracerProvider, BatchSpanProcessor } = await import('@opentelemetry/sdk-trace-node');
    provider = new NodeTracerProvider({ spanProcessors: [new BatchSpanProcessor(exporter)] });
    provider.register();
  }
  const { z } = await import('zod');
  const { McpServer } = modern ? await import('@modelcontextprotocol/server') : await import('@modelcontextprotocol/sdk/server/mcp.js');
  const echo = async ({ text }) => ({ content: [{ type: 'text', text }] });
  const inputSchema = modern ? z.object({ text: z.string(), customer_id: z.string() }) : { text: z.string(), customer_id: z.string() };
  let app;

  if (variant === 'bare' && modern) {
    const Fastify = (await import('fastify')).default;
    const { createMcpHandler } = await import('@modelcontextprotocol/server');
    const mcp = createMcpHandler(() => {
      const s = new McpServer({ name: 'bench', version: '1.0.0' });
      s.registerTool('echo', { inputSchema }, echo);
      return s;
    });
    app = Fastify({ bodyLimit: 4 * 1024 * 1024 });
    app.post('/mcp', async (req, reply) => {
      const headers = new Headers();
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && k !== 'content-length' && k !== 'connection') headers.set(k, v);
      return reply.send(await mcp.fetch(new Request(`http://${req.host}${req.url}`, { method: 'POST', headers }), { parsedBody: req.body }));
    });
  } else if (variant === 'bare' || variant === 'sentry') {
    const Fastify = (await import('fastify')).default;
    const { StreamableHTTPServerTransport } = await import('@modelcontextprotocol/sdk/server/streamableHttp.js');
    app = Fastify({ bodyLimit: 4 * 1024 * 1024 });
    app.post('/mcp', async (req, reply) => {
      const s = variant === 'sentry' ? Sentry.wrapMcpServerWithSentry(new McpServer({ name: 'bench', version: '1.0.0' })) : new McpServer({ name: 'bench', version: '1.0.0' });
      s.registerTool('echo', { inputSchema }, echo);
      const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
      reply.raw.on('close', () => {
        void transport.close();
        void s.close();
      });
      await s.connect(transport);
      reply.hijack();
      await transport.handleRequest(req.raw, reply.raw, req.body);
    });
  } else {
    const build = variant === 'mcptrail-memq' ? 'mcptrail' : variant;
    const lib = await import(mcptrailFor(build));
    const { createAuthenticator, createRecordSink, createLogger, createShipper } = lib;
    // Since the fastify host moved to `mcptrail/fastify` the root no longer exports it; older builds (BENCH_BASELINE) still do.
    const createMcpHttpApp = lib.createMcpHttpApp ?? (await import(new URL('./instrument/fastify.js', pathToFileURL(mcptrailFor(build))).href)).createMcpHttpApp;
    const { Writable } = await import('node:stream');
    const devNull = new Writable({ write(_c, _e, cb) { cb(); } });
    // The full pipeline: records appended to the durable disk spool before emit() returns (what `mcptrail up`
    // and production use); `mcptrail-memq` keeps the memory queue, to show what the spool costs.
    const memq = variant.startsWith('mcptrail-memq');
    const spoolDir = memq ? undefined : (await import('node:fs')).mkdtempSync(`${(await import('node:os')).tmpdir()}/mcptrail-bench-spool-`);
    const shipper = createShipper({ url: `${process.env.SINK_URL}/v1/records`, ...(spoolDir && { spoolDir }) });
    const inner = createRecordSink({ logger: createLogger({ destination: devNull }), shipper });
    const sink = { emit: (r) => { records++; inner.emit(r); }, flush: () => inner.flush(), close: () => inner.close() };
    const authenticator = createAuthenticator({ apiKeys: { [API_KEY]: { agentId: 'agent-001', tenantId: 'tenant-01', scopes: ['bench:read'] } } });
    app = await createMcpHttpApp({
      sdk: modern ? 'v2' : 'v1',
      authenticator,
      sink,
      service: 'bench',
      // As the README shows it: the policies given once, to the app (the edge checks the scope too), and the
      // factory returns a plain server that the app instruments with that one compiled instrumentation.
      // (Until 2026-12-02 this bench called instrument(s, { ...a fresh options object }) in the factory, which
      // compiles a new instrumentation per request: +10–15 µs per call, and limits/state per request.)
      tools: { echo: { scope: 'bench:read', version: '1', redact: { allow: ['text'] } } },
      serverFactory: () => {
        const s = new McpServer({ name: 'bench', version: '1.0.0' });
        s.registerTool('echo', { inputSchema }, echo);
        return s;
      },
    });
    closeAll = async () => {
      await sink.close();
      if (spoolDir) (await import('node:fs')).rmSync(spoolDir, { recursive: true, force: true });
    };
  }
  await app.listen({ host: '127.0.0.1', port: 0 });
  if (process.env.BENCH_PROF_DIR) console.error(`[http] server ${fullVariant} pid ${process.pid}`);
  let served = 0;
  app.server.on('request', () => served++);
  serveWorker({
    // The era rides in the URL's query so the load generator knows which requests to send.
    start: async () => ({ url: `http://127.0.0.1:${app.server.address().port}/mcp${modern ? '?era=2026' : ''}` }),
    cpu: async () => {
      const u = process.cpuUsage();
      return { cpuUs: u.user + u.system };
    },
    async check() {
      await closeAll();
      await provider?.forceFlush();
      await sleep(10);
      if (variant === 'sentry') return { served, recordsPerCall: 0, spansPerCall: records / served };
      return { served, recordsPerCall: variant === 'bare' ? 0 : records / served, spansPerCall: variant === 'bare' ? 0 : exporter.spans / served };
    },
    exit: () => app.close(),
  });
}
