/**
 * Fault and soak harness (loopback only, bounded in time). Drives N agents at
 * a target rate through an instrumented MCP server (child process, durable
 * spool, file idempotency journal, spans exported) into the collector
 * (`mcptrail up`, child process, own data dir and port); SIGKILLs the
 * collector (and keeps it down for --outage seconds), floods the MCP server
 * with unauthenticated batches meanwhile, SIGKILLs it during bursts of
 * same-key writes to an upstream that does not deduplicate, then both, and
 * restarts them; then waits for the spool to drain and compares what the
 * agents got answers for with what ClickHouse holds, and the upstream's
 * effects with the records.
 *
 *   npm run build && npx tsx scripts/soak.ts [--seconds 120] [--agents 8] [--rate 40] [--outage 30] [--flood 24] [--ports N]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openStore, TABLES } from '../packages/collector/src/store/index.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '120' },
    agents: { type: 'string', default: '8' },
    rate: { type: 'string', default: '40' },
    outage: { type: 'string', default: '30' },
    flood: { type: 'string', default: '24' },
    /** Fixed ports (collector, MCP server = next) instead of free ones. */
    ports: { type: 'string' },
    keep: { type: 'boolean', default: false },
  },
});
const SECONDS = Math.min(Number(values.seconds), 170);
const AGENTS = Number(values.agents);
const RATE = Number(values.rate);
const OUTAGE = Math.min(Number(values.outage), SECONDS / 3);
/** Unauthenticated requests of 30,000 tools/call each (3 MB), 3 at a time: the flood. */
const FLOOD = Number(values.flood);
const root = mkdtempSync(join(tmpdir(), 'mcptrail-soak-'));
const dataDir = join(root, 'data');
const spoolDir = join(root, 'spool');
const started = Date.now();
const log = (msg: string) => console.log(`[${((Date.now() - started) / 1000).toFixed(1).padStart(6)}s] ${msg}`);

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

const collectorPort = values.ports ? Number(values.ports) : await freePort();
const mcpPort = values.ports ? Number(values.ports) + 1 : await freePort();
const collectorUrl = `http://127.0.0.1:${collectorPort}`;
const keys = Object.fromEntries(
  Array.from({ length: AGENTS }, (_, i) => [`soak-key-${i}-0123456789abcdef`, { agentId: `agent-${i}`, tenantId: `tenant-${i % 3}`, scopes: ['crm:read', 'crm:write'] }]),
);

// ---- the upstream of the write tool: every POST is an effect (a refund), counted per Idempotency-Key; no dedupe.
const effects = new Map<string, number>();
const upstream = http.createServer(async (req, res) => {
  for await (const _ of req);
  const key = String(req.headers['idempotency-key'] ?? '');
  effects.set(key, (effects.get(key) ?? 0) + 1);
  // The answer comes later than the effect, so kills land between the two.
  await new Promise((r) => setTimeout(r, 100 + Math.random() * 200));
  res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ refund: { id: `R-${randomBytes(4).toString('hex')}` } }));
});
const upstreamUrl = await new Promise<string>((r) => upstream.listen(0, '127.0.0.1', () => r(`http://127.0.0.1:${(upstream.address() as { port: number }).port}`)));

/** Peak RSS per role over every incarnation (VmHWM from /proc). */
const peakRss: Record<string, number> = { collector: 0, mcp: 0 };
const procs: Record<string, ChildProcess | undefined> = {};

function sampleRss(): void {
  for (const [role, child] of Object.entries(procs)) {
    if (!child?.pid || child.exitCode !== null) continue;
    try {
      const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
      if (hwm) peakRss[role] = Math.max(peakRss[role] ?? 0, Number(hwm[1]) * 1024);
    } catch {
      // Exited between the check and the read.
    }
  }
}

async function startCollector(): Promise<void> {
  const child = spawn(process.execPath, ['packages/collector/bin/mcptrail.js', 'up', '--port', String(collectorPort)], {
    env: { ...process.env, MCPTRAIL_DATA_DIR: dataDir, MCPTRAIL_CLICKHOUSE_URL: '', MCPTRAIL_INGEST_TOKEN: '', MCPTRAIL_READ_TOKEN: '' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  procs.collector = child;
  await waitForLine(child, /mcptrail is up/);
}

async function startMcp(): Promise<void> {
  const child = spawn(process.execPath, ['--conditions=mcptrail-source', '--import', 'tsx', 'scripts/soak-server.ts'], {
    env: {
      ...process.env,
      SOAK_PORT: String(mcpPort),
      SOAK_COLLECTOR_URL: collectorUrl,
      SOAK_SPOOL_DIR: spoolDir,
      SOAK_IDEM_DIR: join(root, 'idempotency'),
      SOAK_UPSTREAM_URL: upstreamUrl,
      SOAK_TRACES: '1',
      SOAK_KEYS: JSON.stringify(keys),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  procs.mcp = child;
  await waitForLine(child, /^ready/m);
}

function waitForLine(child: ChildProcess, pattern: RegExp): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (pattern.test(out)) resolve();
    });
    child.once('exit', (code) => reject(new Error(`child exited (${code}) before it was ready`)));
  });
}

async function kill(role: string, signal: NodeJS.Signals): Promise<void> {
  const child = procs[role];
  if (!child || child.exitCode !== null) return;
  sampleRss();
  const exited = new Promise((r) => child.once('exit', r));
  child.kill(signal);
  await exited;
  procs[role] = undefined;
}

// ---- agents: each logs the JSON-RPC ids it got an answer for (the record's request_id).
const answered = new Set<string>();
let attempted = 0;
let failed = 0;
let running = true;

async function agent(i: number): Promise<void> {
  const key = Object.keys(keys)[i]!;
  const interval = (1000 * AGENTS) / RATE;
  let seq = 0;
  while (running) {
    const next = Date.now() + interval;
    const id = `a${i}-${seq++}`;
    attempted++;
    try {
      const res = await fetch(`http://127.0.0.1:${mcpPort}/mcp`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-06-18' },
        body: JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'echo', arguments: { text: id } } }),
        signal: AbortSignal.timeout(5_000),
      });
      const text = await res.text();
      if (res.ok && text.includes('"result"') && text.includes(id)) answered.add(id);
      else failed++;
    } catch {
      failed++;
    }
    await new Promise((r) => setTimeout(r, Math.max(0, next - Date.now())));
  }
}

async function shipperStats(): Promise<{ queued: number; dropped: number } | undefined> {
  try {
    return (await (await fetch(`http://127.0.0.1:${mcpPort}/soak/stats`, { signal: AbortSignal.timeout(2_000) })).json()) as { queued: number; dropped: number };
  } catch {
    return undefined;
  }
}

// ---- the flood: unauthenticated batches of tools/call, 3 at a time (issue 10: 3.5 MB, 30,000 calls each).
const floodStatuses: number[] = [];
async function flood(requests: number): Promise<void> {
  const body = (i: number) =>
    JSON.stringify(Array.from({ length: 30_000 }, (_, j) => ({ jsonrpc: '2.0', id: `f${i}-${j}`, method: 'tools/call', params: { name: 'echo', arguments: { text: 'x' } } })));
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < requests; i = next++) {
      try {
        const res = await fetch(`http://127.0.0.1:${mcpPort}/mcp`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
          body: body(i),
          signal: AbortSignal.timeout(30_000),
        });
        await res.arrayBuffer();
        floodStatuses.push(res.status);
      } catch {
        floodStatuses.push(0);
      }
    }
  };
  await Promise.all([worker(), worker(), worker()]);
}

// ---- the writer: bursts of the same idempotency key (an agent retrying, replicas racing), then one retry per key.
const writeKeys: string[] = [];
const writeAnswers: Record<string, number> = {};
let writing = true;
let writeSeq = 0;
async function refund(key: string): Promise<boolean> {
  const id = `w-${writeSeq++}`;
  attempted++;
  let kind = 'failed';
  try {
    const res = await fetch(`http://127.0.0.1:${mcpPort}/mcp`, {
      method: 'POST',
      headers: { authorization: `Bearer ${Object.keys(keys)[0]}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-06-18' },
      body: JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'refund', arguments: { order: key, amount: 5 }, _meta: { 'io.mcptrail/idempotency-key': key } } }),
      signal: AbortSignal.timeout(10_000),
    });
    const body = (await res.json()) as { result?: { isError?: boolean; structuredContent?: { interrupted?: boolean } } };
    if (body.result) {
      answered.add(id);
      kind = body.result.structuredContent?.interrupted ? 'interrupted' : body.result.isError ? 'error' : 'ok';
    } else failed++;
  } catch {
    failed++;
  }
  writeAnswers[kind] = (writeAnswers[kind] ?? 0) + 1;
  return kind !== 'failed';
}
async function writer(): Promise<void> {
  while (writing) {
    const burst = Array.from({ length: 8 }, (_, i) => `refund-${writeKeys.length + i}-${randomBytes(3).toString('hex')}`);
    writeKeys.push(...burst);
    const served = await Promise.all(burst.flatMap((k) => [refund(k), refund(k), refund(k), refund(k)]));
    for (const k of burst) await refund(k);
    // The server is down (killed, restarting): wait for it rather than spinning through keys.
    await new Promise((r) => setTimeout(r, served.some(Boolean) ? 100 : 1_000));
  }
}

const at = (fraction: number) => new Promise((r) => setTimeout(r, Math.max(0, started + fraction * SECONDS * 1000 - Date.now())));

log(`soak: ${AGENTS} agents, ${RATE} calls/s, ${SECONDS}s, collector outage ${OUTAGE}s; ${cpus().length} cores, node ${process.version}; dir ${root}`);
await startCollector();
await startMcp();
log(`collector ${collectorUrl} (pid ${procs.collector!.pid}), MCP server :${mcpPort} (pid ${procs.mcp!.pid})`);
const rssTimer = setInterval(sampleRss, 500);
const agents = Array.from({ length: AGENTS }, (_, i) => agent(i));

await at(0.15);
log('SIGKILL collector; it stays down (store unavailable)');
await kill('collector', 'SIGKILL');
const outageEnds = Date.now() + OUTAGE * 1000;
log(`flood: ${FLOOD} unauthenticated requests of 30,000 tools/call, 3 at a time, during the outage`);
const flooded = Date.now();
await flood(FLOOD);
log(`flood done in ${Date.now() - flooded} ms: ${JSON.stringify(countBy(floodStatuses))}`);
await new Promise((r) => setTimeout(r, Math.max(0, outageEnds - Date.now())));
log(`restart collector; spool holds ${(await shipperStats())?.queued} records`);
await startCollector();
await at(0.5);
log('writes: bursts of 4 same-key refunds, 8 keys at a time, each key retried');
const writes = writer();
await at(0.55);
log('SIGKILL MCP server during the writes; restart');
await kill('mcp', 'SIGKILL');
await startMcp();
await at(0.7);
log('SIGKILL collector and MCP server together; restart after 3 s');
await Promise.all([kill('collector', 'SIGKILL'), kill('mcp', 'SIGKILL')]);
await new Promise((r) => setTimeout(r, 3_000));
await startCollector();
await startMcp();
await at(0.85);
writing = false;
await writes;
// Every key once more, after the last restart: each gets its settled answer.
for (const k of writeKeys) await refund(k);
await at(0.9);
running = false;
await Promise.all(agents);
log(`agents stopped: ${attempted} calls attempted, ${answered.size} answered, ${failed} failed (server or collector down)`);

const drainStart = Date.now();
let stats = await shipperStats();
while ((stats?.queued ?? 1) > 0 && Date.now() - drainStart < 60_000) {
  await new Promise((r) => setTimeout(r, 100));
  stats = await shipperStats();
}
const drainMs = Date.now() - drainStart;
log(`spool drained in ${drainMs} ms (queued ${stats?.queued}, dropped ${stats?.dropped})`);
clearInterval(rssTimer);
sampleRss();
await kill('mcp', 'SIGTERM');
await kill('collector', 'SIGTERM');

// The collector is down now: the soak opens its embedded store directly.
const store = await openStore({ dataDir, url: '' });
// Per-minute summaries of requests refused unread have no request id.
const rows = await store.query<{ id: string; n: number }>(`SELECT request_id AS id, count() AS n FROM ${TABLES.toolCalls} WHERE request_id != '' GROUP BY request_id`);
const [all] = await store.query<{ n: number }>(`SELECT count() AS n FROM ${TABLES.toolCalls}`);
const [rollup] = await store.query<{ n: number }>(`SELECT sum(calls) AS n FROM ${TABLES.toolCalls1m}`);
const spanIds = await store.query<{ id: string }>(
  `SELECT DISTINCT SpanAttributes['jsonrpc.request.id'] AS id FROM ${TABLES.otelTraces} WHERE SpanKind = 'Server' AND SpanName LIKE 'tools/call %'`,
);
const writeRecords = await store.query<{ key: string; call_id: string }>(
  `SELECT DISTINCT idempotency_key AS key, toString(call_id) AS call_id FROM ${TABLES.toolCalls} WHERE tool = 'refund' AND NOT idempotent_replay`,
);
const UNREAD = `error_code IN ('address_rate_limited', 'unauthenticated_in_flight', 'body_too_large')`;
const [refusals] = await store.query<{ records: number; calls: number; unread: number }>(
  `SELECT countIf(NOT ${UNREAD}) AS records, sumIf(calls_in_request, NOT ${UNREAD}) AS calls, sumIf(calls_in_request, ${UNREAD}) AS unread
   FROM ${TABLES.toolCalls} WHERE outcome = 'unauthenticated'`,
);
const [interrupted] = await store.query<{ n: number }>(`SELECT count() AS n FROM ${TABLES.toolCalls} WHERE outcome = 'interrupted' AND NOT idempotent_replay`);
await store.close();
upstream.close();
const stored = new Map(rows.map((r) => [r.id, Number(r.n)]));
let lost = 0;
let duplicates = 0;
for (const id of answered) if (!stored.has(id)) lost++;
for (const n of stored.values()) if (n > 1) duplicates += n - 1;
const total = Number(all!.n);
const spans = new Set(spanIds.map((r) => r.id));
let spansLost = 0;
for (const id of answered) if (!spans.has(id)) spansLost++;
// Effects against records, per key: at most one effect, and no effect without a record of a call that ran.
const sha256 = (v: string) => createHash('sha256').update(v).digest('hex');
const ran = new Map<string, Set<string>>();
for (const r of writeRecords) ran.set(r.key, (ran.get(r.key) ?? new Set()).add(r.call_id));
let doubleEffects = 0;
let unrecordedEffects = 0;
let effectsTotal = 0;
for (const k of writeKeys) {
  const n = effects.get(k) ?? 0;
  effectsTotal += n;
  if (n > 1) doubleEffects += n - 1;
  unrecordedEffects += Math.max(0, n - (ran.get(sha256(k))?.size ?? 0));
}

const mb = (b: number) => `${(b / 1024 / 1024).toFixed(0)} MB`;
console.log(`
soak result (${SECONDS}s, ${AGENTS} agents @ ${RATE}/s, outage ${OUTAGE}s, ${cpus().length} cores, node ${process.version})
  calls made (answered)          ${answered.size}   (attempted ${attempted}, failed ${failed})
  records stored (distinct)      ${stored.size}   (incl. calls whose answer was lost in a kill)
  rows in tool_calls             ${total}
  rollup sum(calls)              ${Number(rollup!.n)}
  duplicates visible to queries  ${duplicates}
  authenticated records lost     ${lost}   (answered, not stored)
  spans lost                     ${spansLost}   (answered, no SERVER span stored)
  flood                          ${FLOOD} requests × 30,000 calls: ${JSON.stringify(countBy(floodStatuses))}; ${Number(refusals!.records)} refusal records for ${Number(refusals!.calls)} calls, ${Number(refusals!.unread)} requests refused unread
  writes                         ${writeKeys.length} keys, ${effectsTotal} upstream effects, ${Number(interrupted!.n)} interrupted records; answers ${JSON.stringify(writeAnswers)}
  double effects                 ${doubleEffects}
  unrecorded effects             ${unrecordedEffects}
  peak RSS                       collector ${mb(peakRss.collector!)}, MCP server ${mb(peakRss.mcp!)}, soak driver ${mb(process.memoryUsage().rss)}
  drain time after last kill     ${drainMs} ms`);
if (!values.keep) rmSync(root, { recursive: true, force: true });
process.exitCode = lost === 0 && duplicates === 0 && Number(rollup!.n) === total && doubleEffects === 0 && unrecordedEffects === 0 ? 0 : 1;

function countBy(xs: readonly (string | number)[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const x of xs) out[String(x)] = (out[String(x)] ?? 0) + 1;
  return out;
}
