/**
 * Exactly-once writes survive restarts, and every effect has a record (issue
 * 10, item 3). The MCP server (scripts/soak-server.ts, its own process, the
 * embedded file idempotency store and a disk spool) is SIGKILLed during
 * bursts of same-key writes to an upstream that does NOT deduplicate, then
 * restarted; every key is retried. Before the fix, keys lived in memory: a
 * retry after the restart ran again (a second refund), and a call killed
 * mid-flight left its upstream effect with no record.
 *
 * Invariants: at most 1 upstream effect per key; per key, effects ≤ records
 * of calls that ran (distinct call ids, replays excluded); 0 unrecorded.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { CallRecordSchema, type CallRecord } from '../packages/mcptrail/src/record/index.js';

const ROOT = join(import.meta.dirname, '..');
const KEY = `restart-key-${randomBytes(8).toString('hex')}`;
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

const records: CallRecord[] = [];
/** Upstream effects (refunds issued) per Idempotency-Key. */
const effects = new Map<string, number>();
let collector: http.Server;
let upstream: http.Server;
let dir: string;
let collectorUrl: string;
let upstreamUrl: string;
let port: number;
let child: ChildProcess | undefined;

function listen(server: http.Server): Promise<string> {
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

async function startServer(): Promise<void> {
  const c = spawn(process.execPath, ['--conditions=mcptrail-source', '--import', 'tsx', 'scripts/soak-server.ts'], {
    cwd: ROOT,
    env: {
      ...process.env,
      SOAK_PORT: String(port),
      SOAK_COLLECTOR_URL: collectorUrl,
      SOAK_SPOOL_DIR: join(dir, 'spool'),
      SOAK_IDEM_DIR: join(dir, 'idempotency'),
      SOAK_UPSTREAM_URL: upstreamUrl,
      SOAK_KEYS: JSON.stringify({ [KEY]: { agentId: 'agent-w', tenantId: 'tenant-w', scopes: ['crm:write'] } }),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  child = c;
  await new Promise<void>((resolve, reject) => {
    let out = '';
    c.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (/^ready/m.test(out)) resolve();
    });
    c.once('exit', (code) => reject(new Error(`server exited (${code}) before it was ready`)));
  });
}

async function stopServer(signal: NodeJS.Signals): Promise<void> {
  const c = child!;
  if (c.exitCode !== null || c.signalCode !== null) return;
  const exited = new Promise((r) => c.once('exit', r));
  c.kill(signal);
  await exited;
}

/** One refund call with a caller idempotency key; the answer's kind, or 'failed' when the server died under it. */
async function refund(idemKey: string, order: string): Promise<'ok' | 'interrupted' | 'error' | 'failed'> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/mcp`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-06-18' },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'tools/call',
        params: { name: 'refund', arguments: { order, amount: 5 }, _meta: { 'io.mcptrail/idempotency-key': idemKey } },
      }),
      signal: AbortSignal.timeout(10_000),
    });
    const body = (await res.json()) as { result?: { isError?: boolean; structuredContent?: { interrupted?: boolean } } };
    if (body.result?.structuredContent?.interrupted) return 'interrupted';
    return body.result && !body.result.isError ? 'ok' : 'error';
  } catch {
    return 'failed';
  }
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mcptrail-restart-'));
  collector = http.createServer(async (req, res) => {
    let body = '';
    for await (const chunk of req) body += chunk;
    if (req.url === '/v1/records') for (const line of body.split('\n').filter(Boolean)) records.push(CallRecordSchema.parse(JSON.parse(line)));
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
  upstream = http.createServer(async (req, res) => {
    for await (const _ of req);
    // The effect happens on arrival; the answer comes later, so kills land between the two.
    const key = String(req.headers['idempotency-key'] ?? '');
    effects.set(key, (effects.get(key) ?? 0) + 1);
    await new Promise((r) => setTimeout(r, 30 + Math.random() * 40));
    res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ refund: { id: `R-${randomBytes(3).toString('hex')}` } }));
  });
  collectorUrl = await listen(collector);
  upstreamUrl = await listen(upstream);
  port = await freePort();
  await startServer();
});

after(async () => {
  if (child) await stopServer('SIGKILL');
  collector.closeAllConnections();
  upstream.closeAllConnections();
  await new Promise((r) => collector.close(r));
  await new Promise((r) => upstream.close(r));
  await rm(dir, { recursive: true, force: true });
});

test('SIGKILL during bursts of same-key writes, restart, retry: one effect per key, every effect recorded', async () => {
  const ROUNDS = 4;
  const KEYS = 12;
  const BURST = 4;
  const keys: string[] = [];
  const answers: string[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const mine = Array.from({ length: KEYS }, (_, i) => `refund-${round}-${i}-${randomBytes(4).toString('hex')}`);
    keys.push(...mine);
    // Bursts of the same key, all keys at once; the kill lands while they are in flight.
    const burst = mine.flatMap((k) => Array.from({ length: BURST }, () => refund(k, `order-${k}`)));
    await new Promise((r) => setTimeout(r, 40 + round * 15));
    await stopServer('SIGKILL');
    await Promise.all(burst);
    await startServer();
    // Every key retried after the restart, twice.
    for (const k of mine) answers.push(await refund(k, `order-${k}`), await refund(k, `order-${k}`));
  }
  // A clean stop drains the spool.
  await stopServer('SIGTERM');
  child = undefined;

  let double = 0;
  let unrecorded = 0;
  let effected = 0;
  for (const k of keys) {
    const n = effects.get(k) ?? 0;
    if (n > 0) effected++;
    if (n > 1) double += n - 1;
    const ran = new Set(records.filter((r) => r.idempotency_key === sha256(k) && !r.idempotent_replay).map((r) => r.call_id));
    if (n > ran.size) unrecorded += n - ran.size;
  }
  const interrupted = records.filter((r) => r.outcome === 'interrupted' && !r.idempotent_replay).length;
  const total = [...effects.values()].reduce((a, b) => a + b, 0);
  const detail = `${keys.length} keys, ${effected} with an effect, ${total} effects, ${interrupted} interrupted records, answers ${JSON.stringify(countBy(answers))}`;
  assert.equal(double, 0, `double effects (${detail})`);
  assert.equal(unrecorded, 0, `unrecorded effects (${detail})`);
  assert.ok(effected > 0, `some refunds went through (${detail})`);
  assert.ok(answers.every((a) => a === 'ok' || a === 'interrupted'), `every retry answered as a replay or as interrupted (${detail})`);
  // Each interrupted answer carries the call it refers to; each interrupted call has its record.
  for (const r of records.filter((x) => x.outcome === 'interrupted' && !x.idempotent_replay)) {
    assert.equal(r.error_class, 'Interrupted');
    assert.equal(r.tenant_id, 'tenant-w');
    assert.equal(r.agent_id, 'agent-w');
    assert.equal(r.tool, 'refund');
  }
});

function countBy(xs: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const x of xs) out[x] = (out[x] ?? 0) + 1;
  return out;
}
