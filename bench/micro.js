/**
 * Before/after micro-measurements of the hot-path changes proposed in
 * BENCHMARKS.md, alternating A and B in the same process (µs per operation,
 * median of 15 alternating rounds). Prototypes only: the product code is
 * unchanged.   node bench/micro.js
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { dirname, join } from 'node:path';
import { MCPTRAIL, fmt, median } from './lib.js';
import { makeRecord } from './gen.js';

const { createLogger } = await import(MCPTRAIL);
const { pino } = await import('pino');

function compare(name, a, b, n = 20_000, rounds = 15) {
  const ta = [];
  const tb = [];
  for (let r = 0; r < rounds + 2; r++) {
    for (const [f, out] of r % 2 ? [[a, ta], [b, tb]] : [[b, tb], [a, ta]]) {
      const t0 = performance.now();
      for (let i = 0; i < n; i++) f(i);
      if (r >= 2) out.push(((performance.now() - t0) * 1000) / n);
    }
  }
  const ma = median(ta);
  const mb = median(tb);
  return { name, beforeUs: ma, afterUs: mb, savedUs: ma - mb };
}

// 1. Output-safety nonce: randomBytes(16) per call vs a pooled entropy buffer.
let pool = Buffer.alloc(0);
let off = 0;
const pooledHex16 = () => {
  if (off + 16 > pool.length) {
    pool = randomBytes(4096);
    off = 0;
  }
  off += 16;
  return pool.toString('hex', off - 16, off);
};

// 2. The record's log line: pino with the 17 redact paths vs pino without redaction for the record line
//    (a CallRecord is redacted by construction: it has no token/authorization fields).
const devNull = () => new Writable({ write(_c, _e, cb) { cb(); } });
const withRedact = createLogger({ destination: devNull() });
const noRedact = pino({ level: 'info' }, devNull());
const rec = makeRecord(1);

// 3. Serialise once: pino line + shipper JSON.stringify (today) vs one JSON.stringify reused for both.
const prefix = `{"level":30,"time":`;
const once = (r) => {
  const line = JSON.stringify(r);
  return [`${prefix}${Date.now()},"pid":1,"hostname":"h","record":${line},"msg":"tool_call"}\n`, line];
};

const results = [
  compare('output-safety nonce: randomBytes(16).toString("hex") → pooled 4 KiB entropy buffer', () => randomBytes(16).toString('hex'), pooledHex16),
  compare('nonce alternative: randomUUID() (Node pools its entropy)', () => randomBytes(16).toString('hex'), () => randomUUID()),
  compare('record log line: pino with REDACT_PATHS → pino without redact', () => withRedact.info({ record: rec }, 'tool_call'), () => noRedact.info({ record: rec }, 'tool_call')),
  compare('record serialisation: pino line + JSON.stringify for the shipper → one JSON.stringify for both', () => { withRedact.info({ record: rec }, 'tool_call'); JSON.stringify(rec); }, () => once(rec)),
];

// 4. JWT (HS256) per request: jose verification every time (BENCH_BASELINE build) → verified-token cache.
async function compareAsync(name, a, b, n = 5_000, rounds = 9) {
  const ta = [];
  const tb = [];
  for (let r = 0; r < rounds + 2; r++) {
    for (const [f, out] of r % 2 ? [[a, ta], [b, tb]] : [[b, tb], [a, ta]]) {
      const t0 = performance.now();
      for (let i = 0; i < n; i++) await f(i);
      if (r >= 2) out.push(((performance.now() - t0) * 1000) / n);
    }
  }
  return { name, beforeUs: median(ta), afterUs: median(tb), savedUs: median(ta) - median(tb) };
}
const { BASELINES } = await import('./lib.js');
if (BASELINES[0]) {
  const { SignJWT } = await import('jose');
  const secret = 'bench-secret-0123456789abcdef0123456789';
  const jwt = { secret, issuer: 'https://issuer.bench', audience: 'https://mcp.bench/mcp' };
  const token = await new SignJWT({ tenant_id: 't1', agent_id: 'a1', scope: 'bench:read' })
    .setProtectedHeader({ alg: 'HS256' }).setIssuer(jwt.issuer).setAudience(jwt.audience).setIssuedAt().setExpirationTime('1h')
    .sign(new TextEncoder().encode(secret));
  const header = `Bearer ${token}`;
  const before = (await import(BASELINES[0].path)).createAuthenticator({ jwt });
  const after = (await import(MCPTRAIL)).createAuthenticator({ jwt });
  // 5. Record transport per batch (500 records, ~1 KB each) to a local discarding HTTP server: fetch → node:http keep-alive.
  const { startDiscardServer } = await import('./lib.js');
  const { ndjsonBatch } = await import('./gen.js');
  const sinkServer = await startDiscardServer();
  const batch = ndjsonBatch(500).trim().split('\n');
  const tBefore = (await import(join(dirname(BASELINES[0].path), 'record/transport.js'))).createHttpBatchTransport({ url: `${sinkServer.url}/v1/records` });
  const tAfter = (await import(join(dirname(MCPTRAIL), 'record/transport.js'))).createHttpBatchTransport({ url: `${sinkServer.url}/v1/records` });
  const perRecord = (r) => ({ ...r, beforeUs: r.beforeUs / 500, afterUs: r.afterUs / 500, savedUs: r.savedUs / 500 });
  results.push(perRecord(await compareAsync('record transport, per record in 500-record batches: fetch → node:http keep-alive Agent, one Buffer body (BENCH_BASELINE build vs dist)', () => tBefore.send(batch), () => tAfter.send(batch), 200, 9)));
  await sinkServer.close();
  results.push(await compareAsync('JWT (HS256) authenticate per request: jose jwtVerify every time → verified-token cache (BENCH_BASELINE build vs dist)', () => before.authenticate(header), () => after.authenticate(header)));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const r of results) console.log(`${fmt(r.beforeUs, 2).padStart(7)} → ${fmt(r.afterUs, 2).padStart(7)} µs  (−${fmt(r.savedUs, 2)})  ${r.name}`);
}

// 4. Collector: the per-record cost of validateRecords, by part, on a 5,000-record NDJSON body.
const { CallRecordSchema } = await import(MCPTRAIL);
const { createHash } = await import('node:crypto');
const { ndjsonBatch } = await import('./gen.js');
const body = ndjsonBatch(5000);
const lines = body.trim().split('\n');
const parsed = lines.map((l) => JSON.parse(l));
const per = (f) => {
  const ms = [];
  for (let r = 0; r < 7; r++) {
    const t0 = performance.now();
    f();
    ms.push(((performance.now() - t0) * 1000) / lines.length);
  }
  return median(ms);
};
export const collectorParts = {
  jsonParse: per(() => lines.forEach((l) => JSON.parse(l))),
  zodSafeParse: per(() => parsed.forEach((p) => CallRecordSchema.safeParse(p))),
  reStringify: per(() => parsed.forEach((p) => JSON.stringify(p))),
  sha256OfStringBody: per(() => createHash('sha256').update(body).digest('hex')),
  sha256OfBufferBody: (() => { const b = Buffer.from(body); return per(() => createHash('sha256').update(b).digest('hex')); })(),
  sha1OfBufferBody: (() => { const b = Buffer.from(body); return per(() => createHash('sha1').update(b).digest('hex')); })(),
};
if (import.meta.url === `file://${process.argv[1]}`) {
  console.log('collector µs/record:', Object.fromEntries(Object.entries(collectorParts).map(([k, v]) => [k, Number(v.toFixed(2))])));
  process.send?.({ result: { changes: results, collectorParts } });
}
