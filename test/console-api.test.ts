/**
 * The console's server side over real HTTP on the embedded engine: the panel
 * API runs the dashboards' own SQL (the same rows as the Grafana expansion of
 * the definition), narrows every panel to a tenant token's tenant, refuses
 * hostile variable values and ranges with a 400; the console's session cookie
 * is HttpOnly + SameSite=Strict and only works with the console header; the
 * page routes serve the build with a strict CSP; listCalls pages by keyset
 * without skipping or repeating calls of the same millisecond.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderQuery, ALL } from '../packages/collector/src/alerts/macros.js';
import type { AddressInfo } from 'node:net';
import { createCollector, parseReadTokens, type CollectorOptions } from '../packages/collector/src/collector/index.js';
import { DASHBOARD_DEFS } from '../packages/collector/src/dashboards/index.js';
import { listCalls } from '../packages/collector/src/audit/index.js';
import { intervalFor } from '../packages/collector/src/collector/panel-query.js';
import { callsInMinute, callRecord, insertCalls, MINUTE, startOfMinute } from './support/grafana-seed.js';
import { startTestCollector, type TestCollector } from './support/reliability-collector.js';
import type { Outcome } from '../packages/mcptrail/src/record/schema.js';

const OPERATOR = 'console-operator-token-0123456789';
const ACME = 'console-acme-token-0123456789';
const TENANTS = ['acme', 'globex', 'initech'] as const;
const TOOLS = ['crm.search_contacts', 'crm.update_deal'] as const;
const OUTCOMES: Outcome[] = ['ok', 'ok', 'ok', 'tool_error', 'deadline_exceeded', 'ok', 'rate_limited'];

let c: TestCollector;
let distDir: string;
const NOW = Date.now();
const FROM = startOfMinute(NOW) - 30 * MINUTE;
const TO = startOfMinute(NOW) - 1;

before(async () => {
  // A stand-in build: the page routes must serve whatever index.html the console build wrote.
  distDir = mkdtempSync(join(tmpdir(), 'mcptrail-console-dist-'));
  mkdirSync(join(distDir, 'assets'));
  writeFileSync(join(distDir, 'index.html'), '<!doctype html><title>console test build</title><script type="module" src="/assets/app-abc123.js"></script>');
  writeFileSync(join(distDir, 'assets', 'app-abc123.js'), 'console.log("console")');
  c = await startTestCollector({
    readToken: OPERATOR,
    readTokens: parseReadTokens(JSON.stringify({ [ACME]: { tenant: 'acme' } })),
    console: { distDir },
  });
  const records = [];
  for (let m = FROM; m < TO; m += MINUTE) {
    TENANTS.forEach((tenant, ti) =>
      TOOLS.forEach((tool, k) =>
        records.push(...callsInMinute(m, 2 + ti, (i) => ({ tenant, tool, agent: `${tenant}-bot`, outcome: OUTCOMES[(i + k + ti + m / MINUTE) % OUTCOMES.length], durationMs: 20 + i * 10 }))),
      ),
    );
  }
  await insertCalls(c.store, records);
});

after(async () => {
  await c?.close();
  rmSync(distDir, { recursive: true, force: true });
});

/** Another collector on the same store (the engine allows one data directory per process). */
async function sideCollector(opts: Partial<CollectorOptions>) {
  const collector = await createCollector({ store: c.store, readToken: '', readTokens: {}, ...opts });
  await collector.app.listen({ host: '127.0.0.1', port: 0 });
  return { base: `http://127.0.0.1:${(collector.app.server.address() as AddressInfo).port}`, close: () => collector.close() };
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
async function get(path: string, headers: Record<string, string> = bearer(OPERATOR)) {
  const res = await fetch(c.base + path, { headers });
  return { status: res.status, headers: res.headers, body: (await res.json().catch(() => undefined)) as any };
}
const range = `from=${FROM}&to=${TO}`;

describe('panel API', () => {
  test('every panel of every console dashboard answers with the rows of its Grafana-expanded SQL', async () => {
    for (const def of DASHBOARD_DEFS) {
      for (const panel of def.panels) {
        const vars = def.id === 'tenant' ? '&tenant=globex' : '';
        const { status, body } = await get(`/api/panels/${def.id}/${panel.id}?${range}${vars}`);
        assert.equal(status, 200, `${def.id}/${panel.id}: ${JSON.stringify(body)}`);
        const expectedSql = renderQuery(panel.sql, { from: new Date(FROM), to: new Date(TO), intervalMs: intervalFor(TO - FROM) }, [
          { name: 'tenant', value: def.id === 'tenant' ? 'globex' : [ALL], options: [] },
          { name: 'tool', value: [ALL], options: [] },
        ]);
        const expected = await c.store.query<Record<string, unknown>>(expectedSql);
        assert.ok(expected.length > 0, `${def.id}/${panel.id} has seeded rows`);
        assert.deepEqual(body.columns, Object.keys(expected[0]!));
        assert.deepEqual(body.rows, expected.map((r) => Object.values(r)), `${def.id}/${panel.id}`);
        assert.equal(body.kind, panel.kind);
      }
    }
  });

  test('the fleet totals agree with the audit API', async () => {
    const { body } = await get(`/api/panels/fleet/top-tenants-by-errors?${range}`);
    const calls = await listCalls(c.store, { since: '1h', limit: 1000 });
    for (const [tenant, errors, total] of body.rows as [string, number, number][]) {
      const mine = calls.filter((r) => r.tenant_id === tenant && Date.parse(r.ts) >= FROM && Date.parse(r.ts) <= TO);
      assert.equal(total, mine.length, tenant);
      assert.equal(errors, mine.filter((r) => r.outcome !== 'ok').length, tenant);
    }
    assert.deepEqual(body.rows.map((r: unknown[]) => r[0]).sort(), [...TENANTS]);
  });

  test('a tenant token sees its own tenant in every panel, and is refused another', async () => {
    const acme = bearer(ACME);
    const top = await get(`/api/panels/fleet/top-tenants-by-errors?${range}`, acme);
    assert.equal(top.status, 200);
    assert.deepEqual(top.body.rows.map((r: unknown[]) => r[0]), ['acme']);
    const cps = await get(`/api/panels/fleet/calls-per-second?${range}`, acme);
    const cpsAcme = await get(`/api/panels/fleet/calls-per-second?${range}&tenant=acme`);
    assert.deepEqual(cps.body.rows, cpsAcme.body.rows, 'the fleet view of a tenant token is that tenant only');
    const tenantPanel = await get(`/api/panels/tenant/error-classes?${range}`, acme);
    assert.equal(tenantPanel.status, 200);
    assert.ok(tenantPanel.body.rows.length > 0);
    const other = await get(`/api/panels/tenant/error-classes?${range}&tenant=globex`, acme);
    assert.equal(other.status, 403);
    assert.match(other.body.error, /scoped to another tenant/);
    const mixed = await get(`/api/panels/fleet/calls-per-second?${range}&tenant=acme&tenant=globex`, acme);
    assert.equal(mixed.status, 403);
    // The fleet's tool list reads across tenants: refused, and marked unreadable in the catalog.
    assert.equal((await get(`/api/variables/fleet/tool?${range}`, acme)).status, 403);
    const catalog = await get('/api/dashboards/fleet', acme);
    assert.equal(catalog.body.variables.find((v: { name: string }) => v.name === 'tool').readable, false);
    assert.deepEqual((await get(`/api/variables/fleet/tenant?${range}`, acme)).body.values, ['acme']);
    assert.deepEqual((await get(`/api/variables/tenant/tool?${range}&tenant=acme`, acme)).body.values, [...TOOLS]);
    assert.deepEqual((await get(`/api/variables/fleet/tenant?${range}`)).body.values, [...TENANTS]);
  });

  test('hostile or malformed parameters get a 400 and run nothing', async () => {
    const hostile = ["acme' OR 1=1 --", 'acme\\', '${tool}', "a'||'b", 'x'.repeat(129), '', 'acme)', 'a b'];
    for (const value of hostile) {
      const { status, body } = await get(`/api/panels/fleet/calls-per-second?${range}&tenant=${encodeURIComponent(value)}`);
      assert.equal(status, 400, `${JSON.stringify(value)} → ${JSON.stringify(body)}`);
    }
    const cases: Array<[string, RegExp]> = [
      [`/api/panels/fleet/calls-per-second?${range}&tenat=acme`, /unknown parameter: tenat/],
      ['/api/panels/fleet/calls-per-second?since=1y', /since/],
      ['/api/panels/fleet/calls-per-second?since=32d', /since/],
      ['/api/panels/fleet/calls-per-second?since=1h&from=1', /either since or from/],
      [`/api/panels/fleet/calls-per-second?from=${TO}&to=${FROM}`, /before/],
      [`/api/panels/fleet/calls-per-second?from=0&to=${40 * 86_400_000}`, /at most 31d/],
      ['/api/panels/fleet/calls-per-second?from=yesterday', /epoch milliseconds/],
      ['/api/panels/fleet/calls-per-second?since=1h&since=2h', /once/],
      [`/api/panels/tenant/error-rate?${range}`, /tenant is required/],
      [`/api/panels/tenant/error-rate?${range}&tenant=a&tenant=b`, /one value/],
    ];
    for (const [path, message] of cases) {
      const { status, body } = await get(path);
      assert.equal(status, 400, path);
      assert.match(body.error, message, path);
    }
    assert.equal((await get('/api/panels/nope/x')).status, 404);
    assert.equal((await get('/api/panels/fleet/nope')).status, 404);
    assert.equal((await get('/api/panels/fleet/calls-per-second')).status, 200, 'the collector still serves');
  });

  test('the panel API needs a read token like the rest of /api', async () => {
    assert.equal((await get('/api/panels/fleet/calls-per-second', {})).status, 401);
    assert.equal((await get('/api/dashboards', bearer('not-a-token-at-all-0000'))).status, 401);
  });
});

describe('console session', () => {
  const origin = () => c.base;
  const post = (body: unknown, headers: Record<string, string>) =>
    fetch(`${c.base}/api/console/session`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

  test('sign-in sets an HttpOnly SameSite=Strict cookie on /api, from the console origin only', async () => {
    assert.equal((await post({ token: ACME }, { 'x-mcptrail-console': '1' })).status, 403, 'no Origin');
    assert.equal((await post({ token: ACME }, { origin: 'http://evil.example', 'x-mcptrail-console': '1' })).status, 403, 'foreign Origin');
    assert.equal((await post({ token: ACME }, { origin: origin() })).status, 403, 'no console header');
    assert.equal((await post({ token: 'wrong-token-0123456789' }, { origin: origin(), 'x-mcptrail-console': '1' })).status, 401);
    assert.equal((await post({ token: 42 }, { origin: origin(), 'x-mcptrail-console': '1' })).status, 400);
    const res = await post({ token: ACME }, { origin: origin(), 'x-mcptrail-console': '1' });
    assert.equal(res.status, 200);
    assert.deepEqual((await res.json()).scope, { tenant: 'acme' });
    const setCookie = res.headers.get('set-cookie')!;
    assert.match(setCookie, /^mcptrail_read=/);
    for (const attr of [/HttpOnly/i, /SameSite=Strict/i, /Path=\/api(;|$)/, /Max-Age=43200/]) assert.match(setCookie, attr);
    assert.doesNotMatch(setCookie, /Secure/, 'plain http on loopback: no Secure attribute, or the browser drops the cookie');
    const cookie = setCookie.split(';')[0]!;

    // The cookie alone is not enough (CSRF): the console header must come with it.
    assert.equal((await get('/api/calls', { cookie })).status, 403);
    const calls = await get('/api/calls?limit=1000', { cookie, 'x-mcptrail-console': '1' });
    assert.equal(calls.status, 200);
    assert.ok(calls.body.calls.length > 0);
    assert.ok(calls.body.calls.every((r: { tenant_id: string }) => r.tenant_id === 'acme'));
    assert.equal((await get('/api/calls?tenant=globex', { cookie, 'x-mcptrail-console': '1' })).status, 403);
    const session = await get('/api/console/session', { cookie, 'x-mcptrail-console': '1' });
    assert.deepEqual(session.body, { auth: 'token', signedIn: true, scope: { tenant: 'acme' } });
    assert.equal((await get('/api/calls', { cookie: 'mcptrail_read=forged-token-0123456789', 'x-mcptrail-console': '1' })).status, 401);

    const out = await fetch(`${c.base}/api/console/session`, { method: 'DELETE', headers: { cookie, origin: origin(), 'x-mcptrail-console': '1' } });
    assert.equal(out.status, 200);
    assert.match(out.headers.get('set-cookie')!, /mcptrail_read=;.*Expires=Thu, 01 Jan 1970/);
    assert.equal((await fetch(`${c.base}/api/console/session`, { method: 'DELETE', headers: { origin: 'http://evil.example', 'x-mcptrail-console': '1' } })).status, 403);
  });

  test('without tokens the console is open, and says so', async () => {
    const open = await sideCollector({ console: false });
    try {
      const res = await fetch(`${open.base}/api/console/session`);
      assert.deepEqual(await res.json(), { auth: 'open', signedIn: true, scope: { operator: true } });
      assert.equal((await fetch(`${open.base}/`)).status, 404, 'console: false serves no pages');
    } finally {
      await open.close();
    }
  });
});

describe('console pages', () => {
  test('every page URL serves the build with a strict CSP; assets are cached for good; /mcp is not claimed', async () => {
    for (const path of ['/', '/tenants/initech', '/calls?tool=crm.search_contacts&since=15m', `/traces/${'a'.repeat(32)}`, '/alerts']) {
      const res = await fetch(c.base + path);
      assert.equal(res.status, 200, path);
      assert.match(res.headers.get('content-type')!, /text\/html/);
      assert.match(await res.text(), /console test build/);
      const csp = res.headers.get('content-security-policy')!;
      for (const d of ["default-src 'self'", "script-src 'self'", "frame-ancestors 'none'", "connect-src 'self'"]) assert.ok(csp.includes(d), `${path}: ${d}`);
      assert.equal(res.headers.get('cache-control'), 'no-cache');
    }
    const asset = await fetch(`${c.base}/assets/app-abc123.js`);
    assert.equal(asset.status, 200);
    assert.match(asset.headers.get('cache-control')!, /immutable/);
    assert.equal((await fetch(`${c.base}/assets/../index.html`)).status, 404);
    // /mcp is the audit MCP server's (POST only), never a console page.
    const mcp = await fetch(`${c.base}/mcp`);
    assert.equal(mcp.status, 405);
    assert.doesNotMatch(await mcp.text(), /console test build/);
    assert.equal((await fetch(`${c.base}/healthz`)).status, 200);
  });

  test('a collector whose console is not built says how to build it', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'mcptrail-console-none-'));
    const bare = await sideCollector({ console: { distDir: empty } });
    try {
      const res = await fetch(`${bare.base}/tenants/acme`);
      assert.equal(res.status, 503);
      assert.match(await res.text(), /npm run build/);
    } finally {
      await bare.close();
      rmSync(empty, { recursive: true, force: true });
    }
  });
});

test('listCalls pages newest first by keyset, with no call skipped or repeated, ties in the same millisecond included', async () => {
  const ts = NOW - 5 * MINUTE;
  const tied = Array.from({ length: 7 }, () => callRecord(ts, { tenant: 'tiecorp', tool: 'crm.search_contacts' }));
  const older = Array.from({ length: 4 }, (_, i) => callRecord(ts - 1000 - i, { tenant: 'tiecorp', tool: 'crm.search_contacts' }));
  await insertCalls(c.store, [...tied, ...older]);
  const seen: string[] = [];
  let before: string | undefined;
  for (let page = 0; page < 10; page++) {
    const { status, body } = await get(`/api/calls?tenant=tiecorp&limit=3${before ? `&before=${before}` : ''}`);
    assert.equal(status, 200);
    if (body.calls.length === 0) break;
    seen.push(...body.calls.map((r: { call_id: string }) => r.call_id));
    const last = body.calls[body.calls.length - 1];
    before = `${Date.parse(last.ts)}_${last.call_id}`;
  }
  assert.equal(seen.length, 11);
  assert.equal(new Set(seen).size, 11);
  assert.deepEqual(new Set(seen), new Set([...tied, ...older].map((r) => r.call_id)));
  assert.equal((await get('/api/calls?before=yesterday')).status, 400);
});

test('listCalls pages logical calls: an earlier round of a call shown on a newer page does not come back on an older one', async () => {
  const base = NOW - 7 * MINUTE;
  const logical = [1, 2, 3].map((k) => {
    const first = callRecord(base + k * 10 - 1, { tenant: 'roundcorp', tool: 'crm.issue_refund', outcome: 'input_required' as never });
    const second = { ...callRecord(base + k * 10, { tenant: 'roundcorp', tool: 'crm.issue_refund' }), logical_call_id: first.call_id, round: 2 };
    return { first: { ...first, logical_call_id: first.call_id, round: 1 }, second };
  });
  await insertCalls(c.store, logical.flatMap((l) => [l.first, l.second]));
  const seen: string[] = [];
  let before: string | undefined;
  for (let page = 0; page < 10; page++) {
    const { status, body } = await get(`/api/calls?tenant=roundcorp&limit=1${before ? `&before=${before}` : ''}`);
    assert.equal(status, 200);
    if (body.calls.length === 0) break;
    seen.push(...body.calls.map((r: { call_id: string }) => r.call_id));
    const last = body.calls[body.calls.length - 1];
    before = `${Date.parse(last.ts)}_${last.call_id}`;
  }
  // One row per logical call, its last round, newest first; never the first round of one already shown.
  assert.deepEqual(seen, [3, 2, 1].map((k) => logical[k - 1]!.second.call_id));
});
