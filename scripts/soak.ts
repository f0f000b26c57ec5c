/**
 * Fault and soak harness (loopback only, bounded in time). Drives N agents at
 * a target rate through an instrumented MCP server (child process, durable
 * spool) into the collector (`mcptrail up`, child process, own
 * data dir and port); SIGKILLs the collector (and keeps it down for
 * --outage seconds), SIGKILLs the MCP server mid-run and restarts both; then
 * waits for the spool to drain and compares what the agents got answers for
 * with what ClickHouse holds.
 *
 *   npm run build && npx tsx scripts/soak.ts [--seconds 120] [--agents 8] [--rate 40] [--outage 30]
 */
import { spawn, type ChildProcess } from 'node:child_process';
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
    keep: { type: 'boolean', default: false },
  },
});
const SECONDS = Math.min(Number(values.seconds), 170);
const AGENTS = Number(values.agents);
const RATE = Number(values.rate);
const OUTAGE = Math.min(Number(values.outage), SECONDS / 3);
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

const collectorPort = await freePort();
const mcpPort = await freePort();
const collectorUrl = `http://127.0.0.1:${collectorPort}`;
const keys = Object.fromEntries(
  Array.from({ length: AGENTS }, (_, i) => [`soak-key-${i}-0123456789abcdef`, { agentId: `agent-${i}`, tenantId: `tenant-${i % 3}`, scopes: ['crm:read'] }]),
);

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
    env: { ...process.env, SOAK_PORT: String(mcpPort), SOAK_COLLECTOR_URL: collectorUrl, SOAK_SPOOL_DIR: spoolDir, SOAK_KEYS: JSON.stringify(keys) },
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
await new Promise((r) => setTimeout(r, OUTAGE * 1000));
log(`restart collector; spool holds ${(await shipperStats())?.queued} records`);
await startCollector();
await at(0.55);
log('SIGKILL MCP server; restart');
await kill('mcp', 'SIGKILL');
await startMcp();
await at(0.7);
log('SIGKILL collector and MCP server together; restart after 3 s');
await Promise.all([kill('collector', 'SIGKILL'), kill('mcp', 'SIGKILL')]);
await new Promise((r) => setTimeout(r, 3_000));
await startCollector();
await startMcp();
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
const rows = await store.query<{ id: string; n: number }>(`SELECT request_id AS id, count() AS n FROM ${TABLES.toolCalls} GROUP BY request_id`);
const [rollup] = await store.query<{ n: number }>(`SELECT sum(calls) AS n FROM ${TABLES.toolCalls1m}`);
await store.close();
const stored = new Map(rows.map((r) => [r.id, Number(r.n)]));
let lost = 0;
let duplicates = 0;
for (const id of answered) if (!stored.has(id)) lost++;
for (const n of stored.values()) if (n > 1) duplicates += n - 1;
const total = [...stored.values()].reduce((a, b) => a + b, 0);
const mb = (b: number) => `${(b / 1024 / 1024).toFixed(0)} MB`;
console.log(`
soak result (${SECONDS}s, ${AGENTS} agents @ ${RATE}/s, outage ${OUTAGE}s, ${cpus().length} cores, node ${process.version})
  calls made (answered)          ${answered.size}   (attempted ${attempted}, failed ${failed})
  records stored (distinct)      ${stored.size}   (incl. calls whose answer was lost in a kill)
  rows in tool_calls             ${total}
  rollup sum(calls)              ${Number(rollup!.n)}
  duplicates visible to queries  ${duplicates}
  lost (answered, not stored)    ${lost}
  peak RSS                       collector ${mb(peakRss.collector!)}, MCP server ${mb(peakRss.mcp!)}, soak driver ${mb(process.memoryUsage().rss)}
  drain time after last kill     ${drainMs} ms`);
if (!values.keep) rmSync(root, { recursive: true, force: true });
process.exitCode = lost === 0 && duplicates === 0 && Number(rollup!.n) === total ? 0 : 1;
