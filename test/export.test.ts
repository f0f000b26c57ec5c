/**
 * Exports: pages in (ts, call_id) order with a cursor that resumes without
 * gaps after a cut connection; tenant scoping by token; NDJSON and the
 * engine's Parquet, through the API and from the store (embedded and http
 * drivers); the CLI's files and manifest.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseReadTokens } from '../packages/collector/src/collector/index.js';
import { openStore, migrate, TABLES, type Store } from '../packages/collector/src/store/index.js';
import { readExportPage, decodeCursor } from '../packages/collector/src/audit/export.js';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { callRecord, ndjson, postRecords, startTestCollector, type TestCollector } from './support/reliability-collector.js';
import { startClickHouseHttpServer } from './support/ch-http-server.js';
import type { CallRecord } from '../packages/mcptrail/src/record/schema.js';

const run = promisify(execFile);
/** The built CLI, as a user runs it (`npm test` builds first). */
const CLI = new URL('../packages/collector/bin/mcptrail.js', import.meta.url).pathname;
const OPERATOR = 'operator-token-0123456789';
const ACME = 'acme-reader-token-0123456789';
const DAY = 86_400_000;
const base = Date.now() - 20 * DAY;

/** Rows days apart, bursts sharing one millisecond (ties broken by call_id), two tenants. */
function dataset(): CallRecord[] {
  const rows: CallRecord[] = [];
  const at = (ms: number) => new Date(ms).toISOString();
  for (let i = 0; i < 40; i++) rows.push(callRecord({ tenant_id: 'acme', ts: at(base + i * 7_919_000) }));
  for (let i = 0; i < 25; i++) rows.push(callRecord({ tenant_id: 'acme', ts: at(base + 10 * DAY) })); // one millisecond
  for (let i = 0; i < 15; i++) rows.push(callRecord({ tenant_id: 'acme', ts: at(base + 19 * DAY + i) }));
  for (let i = 0; i < 30; i++) rows.push(callRecord({ tenant_id: 'globex', ts: at(base + i * 3_600_000) }));
  return rows;
}

const expectedOrder = async (store: Store, tenant?: string) =>
  (await store.query<{ id: string }>(`SELECT toString(call_id) AS id FROM ${TABLES.toolCalls} ${tenant ? `WHERE tenant_id = '${tenant}'` : ''} ORDER BY ts, call_id`)).map((r) => r.id);

let c: TestCollector;
const records: CallRecord[] = dataset();
describe('on the embedded store', () => {
before(async () => {
  c = await startTestCollector({ readToken: OPERATOR, readTokens: parseReadTokens(JSON.stringify({ [ACME]: { tenant: 'acme' } })) });
  assert.equal((await postRecords(c.base, ndjson(records))).status, 200);
});
after(() => c.close());

function exportUrl(params: Record<string, string>): string {
  return `${c.base}/api/export?${new URLSearchParams({ since: new Date(base - DAY).toISOString(), until: new Date(Date.now() + 60_000).toISOString(), ...params })}`;
}

async function pullAll(token: string, params: Record<string, string>): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let cursor: string | undefined;
  let pages = 0;
  for (;;) {
    const res = await fetch(exportUrl({ ...params, ...(cursor ? { cursor } : {}) }), { headers: { authorization: `Bearer ${token}` } });
    assert.equal(res.status, 200);
    const text = await res.text();
    const lines = text.split('\n').filter(Boolean);
    assert.equal(Number(res.headers.get('x-mcptrail-rows')), lines.length);
    ids.push(...lines.map((l) => (JSON.parse(l) as CallRecord).call_id));
    pages++;
    if (res.headers.get('x-mcptrail-complete') === 'true') return { ids, pages };
    cursor = res.headers.get('x-mcptrail-next-cursor')!;
    assert.ok(cursor);
    assert.match(res.headers.get('link')!, /rel="next"/);
  }
}

describe('GET /api/export', () => {
  test('pages cover the range in (ts, call_id) order: no gaps, no duplicates, across gaps of days and ties in one millisecond', async () => {
    const { ids, pages } = await pullAll(OPERATOR, { tenant: 'acme', limit: '7' });
    assert.deepEqual(ids, await expectedOrder(c.store, 'acme'));
    assert.equal(ids.length, 80);
    assert.ok(pages >= 12, `${pages} pages`);
    const all = await pullAll(OPERATOR, { limit: '1000' });
    assert.deepEqual(all.ids, await expectedOrder(c.store), 'an operator exports every tenant');
  });

  test('a connection cut mid-page and resumed from the same cursor loses nothing; duplicates are rows of that page only', async () => {
    // Large pages, so the body arrives in several chunks and the cut lands inside one.
    const big = Array.from({ length: 3000 }, (_, i) => callRecord({ tenant_id: 'bulk', ts: new Date(base + i * 1000).toISOString(), args_summary: JSON.stringify({ pad: 'x'.repeat(400) }) }));
    assert.equal((await postRecords(c.base, ndjson(big))).status, 200);
    const received: string[] = [];
    const first = await fetch(exportUrl({ tenant: 'bulk', limit: '1000' }), { headers: { authorization: `Bearer ${OPERATOR}` } });
    const firstLines = (await first.text()).split('\n').filter(Boolean);
    received.push(...firstLines.map((l) => JSON.parse(l).call_id));
    const cursor = first.headers.get('x-mcptrail-next-cursor')!;
    // Page 2, cut after the first chunk of its body.
    const partial = await new Promise<string[]>((resolve, reject) => {
      const req = request(exportUrl({ tenant: 'bulk', limit: '1000', cursor }), { headers: { authorization: `Bearer ${OPERATOR}` } }, (res) => {
        res.once('data', (chunk: Buffer) => {
          const text = chunk.toString('utf8');
          req.destroy();
          // Only complete lines count as received.
          resolve(text.slice(0, text.lastIndexOf('\n') + 1).split('\n').filter(Boolean).map((l) => JSON.parse(l).call_id));
        });
      });
      req.on('error', (err) => (req.destroyed ? undefined : reject(err)));
      req.end();
    });
    assert.ok(partial.length > 0 && partial.length < 1000, `cut after ${partial.length} rows`);
    received.push(...partial);
    // The reader never got this page's end, so it asks the same cursor again, then carries on.
    let next: string | undefined = cursor;
    while (next) {
      const res = await fetch(exportUrl({ tenant: 'bulk', limit: '1000', cursor: next }), { headers: { authorization: `Bearer ${OPERATOR}` } });
      received.push(...(await res.text()).split('\n').filter(Boolean).map((l) => JSON.parse(l).call_id));
      next = res.headers.get('x-mcptrail-complete') === 'true' ? undefined : res.headers.get('x-mcptrail-next-cursor')!;
    }
    const unique = [...new Set(received)];
    assert.deepEqual(unique, await expectedOrder(c.store, 'bulk'), 'no gaps, order kept');
    const counts = new Map<string, number>();
    for (const id of received) counts.set(id, (counts.get(id) ?? 0) + 1);
    const duplicated = [...counts].filter(([, n]) => n > 1).map(([id]) => id);
    assert.deepEqual(duplicated, partial, 'duplicates are exactly the rows read before the cut');
  });

  test('a tenant token exports its own tenant only; bad parameters are a 400', async () => {
    const own = await pullAll(ACME, { limit: '50' });
    assert.deepEqual(own.ids, await expectedOrder(c.store, 'acme'), 'no tenant named: its own');
    const other = await fetch(exportUrl({ tenant: 'globex' }), { headers: { authorization: `Bearer ${ACME}` } });
    assert.equal(other.status, 403);
    assert.equal((await fetch(exportUrl({}))).status, 401);
    for (const bad of [{ cursor: 'nope' }, { cursor: Buffer.from('{"v":1,"t":-1,"w":1000}').toString('base64url') }, { limit: '0' }, { format: 'csv' }, { until: '2000-01-01' }, { tenat: 'acme' }]) {
      const res = await fetch(exportUrl(bad), { headers: { authorization: `Bearer ${OPERATOR}` } });
      assert.equal(res.status, 400, JSON.stringify(bad));
      assert.ok(((await res.json()) as { error: string }).error.length > 0);
    }
  });

  test('Parquet pages come from the engine and read back with the same rows', async () => {
    const res = await fetch(exportUrl({ tenant: 'acme', format: 'parquet', limit: '1000' }), { headers: { authorization: `Bearer ${OPERATOR}` } });
    assert.equal(res.headers.get('content-type'), 'application/vnd.apache.parquet');
    const body = Buffer.from(await res.arrayBuffer());
    assert.equal(body.subarray(0, 4).toString(), 'PAR1');
    assert.equal(body.subarray(-4).toString(), 'PAR1');
    const dir = mkdtempSync(join(tmpdir(), 'mcptrail-parquet-'));
    try {
      const file = join(dir, 'page.parquet');
      writeFileSync(file, body);
      const rows = await c.store.query<{ id: string }>(`SELECT toString(call_id) AS id FROM file('${file}', Parquet)`);
      assert.deepEqual(rows.map((r) => r.id), await expectedOrder(c.store, 'acme'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('mcptrail export', () => {
  test('writes data files and a manifest whose row counts and sha256 match the files', async () => {
    const out = mkdtempSync(join(tmpdir(), 'mcptrail-export-cli-'));
    const env = { ...process.env, MCPTRAIL_COLLECTOR_URL: c.base, MCPTRAIL_READ_TOKEN: ACME };
    try {
      const { stdout } = await run(process.execPath, [CLI, 'export', '--since', new Date(base - DAY).toISOString(), '--format', 'ndjson', '--rows-per-file', '30', '--out', out, '--json'], { env });
      const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
      assert.deepEqual(JSON.parse(stdout), manifest);
      assert.equal(manifest.tenant, null);
      assert.equal(manifest.rows, 80, 'the acme token exported acme only');
      assert.deepEqual(manifest.files.map((f: { rows: number }) => f.rows), [30, 30, 20]);
      for (const f of manifest.files) {
        const bytes = readFileSync(join(out, f.name));
        assert.equal(createHash('sha256').update(bytes).digest('hex'), f.sha256);
        assert.equal(bytes.length, f.bytes);
        const lines = bytes.toString('utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
        assert.equal(lines.length, f.rows);
        assert.equal(lines[0].call_id, f.first.callId);
        assert.equal(lines.at(-1).call_id, f.last.callId);
      }
      assert.deepEqual(readdirSync(out).sort(), ['manifest.json', 'tool_calls-000001.ndjson', 'tool_calls-000002.ndjson', 'tool_calls-000003.ndjson']);
      assert.equal(manifest.ledgerHeads[0].tenant, 'acme');
      // A second export into the same directory is refused rather than mixed in.
      await assert.rejects(run(process.execPath, [CLI, 'export', '--out', out], { env }), (err: { code?: number; stderr?: string }) => err.code === 2 && /exists/.test(err.stderr ?? ''));
      // Another tenant's export is refused by the collector, and says so.
      await assert.rejects(run(process.execPath, [CLI, 'export', '--tenant', 'globex', '--out', join(out, 'g')], { env }), (err: { code?: number; stderr?: string }) => err.code === 1 && /403/.test(err.stderr ?? ''));
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});

});

describe('export pages from the store', () => {
  test('the http driver reads the same pages, NDJSON and Parquet', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mcptrail-export-http-'));
    const server = await startClickHouseHttpServer({ dataDir: join(dir, 'ch') });
    const store = await openStore({ url: server.url });
    try {
      await migrate(store);
      await store.insertNDJSON(TABLES.toolCalls, ndjson(records));
      const range = { tenant: 'acme', sinceMs: base - DAY, untilMs: Date.now() + 60_000 };
      const ids: string[] = [];
      let cursor: string | undefined;
      for (;;) {
        const page = await readExportPage(store, range, cursor, { limit: 9 });
        ids.push(...page.body.toString('utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l).call_id));
        if (page.complete) break;
        cursor = page.next;
        assert.ok(decodeCursor(cursor!).t >= range.sinceMs);
      }
      assert.deepEqual(ids, await expectedOrder(store, 'acme'));
      const parquet = await readExportPage(store, range, undefined, { limit: 1000, format: 'parquet' });
      assert.equal(parquet.rows, 80);
      assert.equal(parquet.body.subarray(0, 4).toString(), 'PAR1');
    } finally {
      await store.close();
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

test('cursor tokens are positions, not data: unknown shapes are refused', () => {
  assert.throws(() => decodeCursor(Buffer.from(JSON.stringify({ v: 1, t: 5, id: "x' OR 1=1", w: 1000 })).toString('base64url')), /cursor is not valid/);
  assert.throws(() => decodeCursor(Buffer.from(JSON.stringify({ v: 2, t: 5, w: 1000 })).toString('base64url')), /cursor is not valid/);
  const id = randomUUID();
  assert.deepEqual(decodeCursor(Buffer.from(JSON.stringify({ v: 1, t: 5, id, w: 1000 })).toString('base64url')), { t: 5, id, w: 1000 });
});
