/**
 * The console in a real browser (Debian's Chromium driven by playwright-core)
 * against `mcptrail up --demo` in its own process, with read tokens
 * configured. The test drives a known set of tool calls through the demo's
 * MCP server with the official SDK client (the synthetic agents are off, so
 * every number on screen can be checked exactly against the audit API), then
 * signs in as the operator and as a tenant and reads every page. One demo
 * child and one browser serve all tests; waits are on page state, not time.
 * Screenshots land in test/screenshots/console/ (gitignored).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { SpanKind, context as otelContext, trace } from '@opentelemetry/api';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { callRecord, insertCalls } from './support/grafana-seed.js';
import { startTestCollector } from './support/reliability-collector.js';

const ROOT = join(import.meta.dirname, '..');
const CLI = join(ROOT, 'packages', 'collector', 'bin', 'mcptrail.js');
const SHOTS = join(ROOT, 'test', 'screenshots', 'console');
const CHROMIUM = process.env.MCPTRAIL_CHROMIUM ?? '/usr/bin/chromium';
const OPERATOR = `operator-${randomBytes(12).toString('hex')}`;
const ACME = `acme-reader-${randomBytes(12).toString('hex')}`;

interface DemoFile {
  mcpUrl: string;
  collectorUrl: string;
  agents: Array<{ agentId: string; tenantId: string; token: string }>;
}

interface Call {
  ts: string;
  call_id: string;
  trace_id: string;
  span_id: string;
  tenant_id: string;
  agent_id: string;
  tool: string;
  outcome: string;
  error_class: string;
  error_code: string;
  intent: string;
}

let dataDir: string;
let up: ChildProcess;
let upOutput = '';
let demo: DemoFile;
let base: string;
let browser: Browser;
/** Every call the test drove, as the audit API reports them (newest first). */
let calls: Call[];

async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n--- mcptrail up output ---\n${upOutput}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function api<T = any>(path: string, token = OPERATOR): Promise<{ status: number; body: T }> {
  const res = await fetch(base + path, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, body: (await res.json()) as T };
}

/** What the test calls, per agent: allowed tools, a denied refund (globex has no refunds scope) and unknown deals. */
const PLAN: Record<string, Array<[string, Record<string, unknown>]>> = {
  'acme-support-bot': [...Array(5).fill(['crm.search_contacts', { query: 'ada', limit: 3 }]), ['crm.update_deal', { deal_id: 'D-3', stage: 'won' }]],
  'acme-billing-bot': [['crm.search_contacts', { query: 'grace' }], ['crm.issue_refund', { deal_id: 'D-7', amount: 25, intent: 'Refund the duplicate charge on D-7 the customer reported.' }], ['crm.update_deal', { deal_id: 'NO-SUCH-DEAL', stage: 'lost' }]],
  'globex-sales-agent': [...Array(3).fill(['crm.search_contacts', { query: 'linus' }]), ['crm.issue_refund', { deal_id: 'D-2', amount: 10, intent: 'Refund D-2 after the cancelled order.' }], ['crm.issue_refund', { deal_id: 'D-4', amount: 12, intent: 'Refund D-4 for the outage credit.' }]],
  'initech-ops-agent': [...Array(4).fill(['crm.search_contacts', { query: 'ken' }]), ['crm.update_deal', { deal_id: 'NO-SUCH-DEAL', stage: 'won' }]],
};
const DRIVEN = Object.values(PLAN).reduce((n, p) => n + p.length, 0);

async function driveCalls(): Promise<string[]> {
  const traceIds: string[] = [];
  for (const [agentId, plan] of Object.entries(PLAN)) {
    const agent = demo.agents.find((a) => a.agentId === agentId)!;
    const client = new Client({ name: 'console-test', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(demo.mcpUrl), { requestInit: { headers: { authorization: `Bearer ${agent.token}` } } }));
    for (const [name, args] of plan) {
      const traceId = randomBytes(16).toString('hex');
      traceIds.push(traceId);
      await client.callTool({ name, arguments: args, _meta: { traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01` } }).catch(() => undefined);
    }
    await client.close();
  }
  return traceIds;
}

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  dataDir = await mkdtemp(join(tmpdir(), 'mcptrail-console-'));
  up = spawn(process.execPath, [CLI, 'up', '--demo', '--port', '0', '--mcp-port', '0', '--upstream-port', '0', '--rate', '0'], {
    env: {
      ...process.env,
      MCPTRAIL_DATA_DIR: dataDir,
      MCPTRAIL_DEMO_INCIDENTS: '0',
      MCPTRAIL_READ_TOKEN: '',
      MCPTRAIL_READ_TOKENS: JSON.stringify({ [OPERATOR]: { operator: true }, [ACME]: { tenant: 'acme' } }),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  up.stdout!.on('data', (d) => (upOutput += d));
  up.stderr!.on('data', (d) => (upOutput += d));
  const demoPath = join(dataDir, 'demo.json');
  const [launched] = await Promise.all([
    chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'] }),
    waitFor('demo.json', async () => (existsSync(demoPath) ? (JSON.parse(await readFile(demoPath, 'utf8')) as DemoFile) : undefined)).then((d) => (demo = d)),
  ]);
  browser = launched;
  base = demo.collectorUrl;
  const traceIds = new Set(await driveCalls());
  calls = await waitFor('every driven call in the audit API', async () => {
    const { body } = await api<{ calls: Call[] }>('/api/calls?since=1h&limit=1000');
    return body.calls.filter((c) => traceIds.has(c.trace_id)).length === DRIVEN ? body.calls : undefined;
  });
  assert.equal(calls.length, DRIVEN, 'the synthetic agents are off: the driven calls are all there is');
});

after(async () => {
  await browser?.close();
  if (up && up.exitCode === null) {
    up.kill('SIGTERM');
    await new Promise((r) => up.once('exit', r));
  }
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

/** A fresh browser context (no cookies); page errors and console errors (CSP violations among them) fail the test. */
async function newPage(): Promise<{ context: BrowserContext; page: Page; problems: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    // A refused API read (401/403) is logged by the browser as a failed resource: expected where a test asks for it.
    if (m.type() === 'error' && !/status of 40[13]/.test(m.text())) problems.push(`console: ${m.text()}`);
  });
  return { context, page, problems };
}

/** The page is drawn: its main element is there and no part of it is still loading. */
async function drawn(page: Page): Promise<void> {
  await page.waitForFunction(
    () => !!document.querySelector('main[data-page]') && document.querySelectorAll('[data-state]').length > 0 && document.querySelectorAll('[data-state=loading]').length === 0,
    null,
    { timeout: 30_000 },
  );
}

async function visit(page: Page, path: string): Promise<void> {
  await page.goto(base + path);
  await drawn(page);
}

async function signIn(page: Page, token: string): Promise<void> {
  await page.goto(base + '/');
  await page.getByLabel('Read token', { exact: true }).fill(token);
  await page.keyboard.press('Enter');
  await page.waitForSelector('main[data-page=fleet]');
  await drawn(page);
}

const shot = (page: Page, name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });

/** A table's body cells, by column header. */
async function tableRows(page: Page, selector: string): Promise<Array<Record<string, string>>> {
  return page.$$eval(`${selector} table`, (tables) => {
    const table = tables[0] as HTMLTableElement;
    const heads = [...table.querySelectorAll('thead th')].map((th) => th.textContent!.trim().toLowerCase());
    return [...table.querySelectorAll('tbody tr')].map((tr) => Object.fromEntries([...tr.children].map((td, i) => [heads[i]!, td.textContent!.trim()])));
  });
}

const count = (rows: Call[], f: (c: Call) => boolean) => rows.filter(f).length;

describe('as the operator', () => {
  let page: Page;
  let context: BrowserContext;
  let problems: string[];
  before(async () => {
    ({ page, context, problems } = await newPage());
  });
  after(async () => {
    await context.close();
  });

  test('the console asks for the read token and keeps it in an HttpOnly cookie, never in the URL', async () => {
    const printed = /console\s+(http:\/\/127\.0\.0\.1:\d+\/)\s/.exec(upOutput);
    assert.equal(printed?.[1], `${base}/`, 'mcptrail up prints the console URL');
    await page.goto(printed![1]!);
    await page.waitForSelector('main[data-page=signin]');
    await shot(page, '01-sign-in');
    await page.getByLabel('Read token', { exact: true }).fill('not-a-valid-token-000000');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'unknown read token' }).waitFor();
    await signIn(page, OPERATOR);
    const cookie = (await context.cookies()).find((c) => c.name === 'mcptrail_read')!;
    assert.equal(cookie.httpOnly, true);
    assert.equal(cookie.sameSite, 'Strict');
    assert.equal(cookie.path, '/api');
    assert.ok(!page.url().includes(OPERATOR));
    assert.equal(await page.evaluate(() => document.cookie.includes('mcptrail_read')), false, 'page scripts cannot read the token');
    assert.match(await page.locator('header').innerText(), /operator/);
  });

  test('the fleet overview shows the driven calls, numbers as the audit API counts them', async () => {
    await visit(page, '/?since=1h');
    const top = await tableRows(page, '[data-panel=top-tenants-by-errors]');
    assert.deepEqual(top.map((r) => r['tenant id']).sort(), ['acme', 'globex', 'initech']);
    for (const row of top) {
      const tenant = row['tenant id']!;
      assert.equal(row['total calls'], String(count(calls, (c) => c.tenant_id === tenant)), `${tenant} total`);
      assert.equal(row.errors, String(count(calls, (c) => c.tenant_id === tenant && c.outcome !== 'ok')), `${tenant} errors`);
    }
    const tools = await tableRows(page, '[data-panel=top-tools-by-errors]');
    for (const row of tools) assert.equal(row['total calls'], String(count(calls, (c) => c.tool === row.tool)), row.tool);
    for (const id of ['calls-per-second', 'latency-per-tool']) {
      assert.equal(await page.locator(`[data-panel=${id}][data-state=ready] canvas`).count() > 0, true, `${id} drew a chart`);
    }
    const latency = (await page.locator('[data-panel=latency-per-tool] [role=img]').getAttribute('aria-label'))!;
    for (const tool of new Set(calls.filter((c) => c.outcome !== 'denied').map((c) => c.tool))) assert.ok(latency.includes(tool), `latency series for ${tool}`);
    assert.equal(await page.locator('[data-state=error]').count(), 0);
    await page.locator('[data-panel=firing-alerts]').waitFor();
    await shot(page, '02-fleet');
    assert.deepEqual(problems, []);
  });

  test('/tenants/initech shows the tenant dashboard for initech only', async () => {
    await visit(page, '/tenants/initech?since=1h');
    const panels = await page.locator('main section.panel').count();
    assert.equal(panels, 10, 'the ten panels of the Grafana tenant dashboard');
    assert.equal(await page.locator('[data-state=error]').count(), 0);
    const classes = await tableRows(page, '[data-panel=error-classes]');
    const failed = calls.filter((c) => c.tenant_id === 'initech' && c.outcome !== 'ok');
    assert.ok(failed.length > 0, 'initech has a failed call (the unknown deal)');
    assert.equal(classes.reduce((n, r) => n + Number(r['failed calls']), 0), failed.length);
    for (const r of classes) assert.ok(failed.some((c) => c.tool === r.tool && c.outcome === r.outcome), JSON.stringify(r));
    const cps = (await page.locator('[data-panel=calls-per-second-by-tool] [role=img]').getAttribute('aria-label'))!;
    assert.match(cps, /crm\.search_contacts/);
    // The tool picker loads its options when first used: initech's tools.
    await page.getByLabel('Tool', { exact: true }).focus();
    await page.waitForFunction(() => [...document.querySelectorAll('select option')].some((o) => o.textContent === 'crm.search_contacts'));
    const tools = await page.getByLabel('Tool', { exact: true }).locator('option').allTextContents();
    assert.deepEqual(tools, ['All', ...new Set(calls.filter((c) => c.tenant_id === 'initech').map((c) => c.tool))].sort((a, b) => (a === 'All' ? -1 : b === 'All' ? 1 : a.localeCompare(b))));
    await shot(page, '03-tenant-initech');
    assert.deepEqual(problems, []);
  });

  test('the calls table lists the calls newest first, and the filters narrow it', async () => {
    await visit(page, '/calls');
    const all = await page.locator('table.calls tbody tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-call')));
    assert.deepEqual(all, calls.slice(0, 50).map((c) => c.call_id), 'the audit API order');
    await page.getByLabel('Tenant', { exact: true }).fill('globex');
    await page.getByLabel('Outcome', { exact: true }).selectOption('denied');
    await page.getByLabel('Tenant', { exact: true }).press('Enter');
    await page.waitForURL(/tenant=globex/);
    await drawn(page);
    assert.match(page.url(), /outcome=denied/);
    const rows = await tableRows(page, '[data-panel=calls]');
    const expected = calls.filter((c) => c.tenant_id === 'globex' && c.outcome === 'denied');
    assert.ok(expected.length >= 1 && expected.length < all.length);
    assert.equal(rows.length, expected.length);
    for (const r of rows) assert.deepEqual([r.tenant, r.outcome], ['globex', 'denied']);
    await shot(page, '04-calls-filtered');

    // Paging: five at a time, older pages continue where the last stopped.
    await visit(page, '/calls?limit=5');
    const first = await page.locator('table.calls tbody tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-call')));
    await page.getByRole('link', { name: 'Older calls' }).click();
    await page.waitForURL(/before=/);
    await drawn(page);
    const second = await page.locator('table.calls tbody tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-call')));
    assert.deepEqual([...first, ...second], calls.slice(0, 10).map((c) => c.call_id));
    assert.deepEqual(problems, []);
  });

  test('the calls table shows why each call was made, the intent filter finds a call by a word of it, and its trace page shows it', async () => {
    const refund = calls.find((c) => c.tool === 'crm.issue_refund' && c.tenant_id === 'acme')!;
    assert.equal(refund.intent, 'Refund the duplicate charge on D-7 the customer reported.', 'the audit API has the intent');
    await visit(page, '/calls?tenant=acme');
    const rows = await tableRows(page, '[data-panel=calls]');
    assert.equal(rows.length, count(calls, (c) => c.tenant_id === 'acme'));
    assert.deepEqual(
      rows.filter((r) => r.tool === 'crm.issue_refund').map((r) => r.intent),
      [refund.intent],
    );
    assert.ok(rows.filter((r) => r.tool === 'crm.search_contacts').every((r) => r.intent === '–'), 'a call that stated none shows a dash');

    await page.getByLabel('Intent', { exact: true }).fill('DUPLICATE');
    await page.getByLabel('Intent', { exact: true }).press('Enter');
    await page.waitForURL(/intent=DUPLICATE/);
    await drawn(page);
    const found = await tableRows(page, '[data-panel=calls]');
    assert.deepEqual(found.map((r) => [r.tool, r.intent]), [['crm.issue_refund', refund.intent]]);
    await shot(page, '04b-calls-by-intent');

    await page.locator('table.calls tbody tr').first().getByRole('link', { name: /Open trace/ }).click();
    await page.waitForURL(`**/traces/${refund.trace_id}`);
    await page.waitForSelector('[data-panel=trace][data-state=ready]', { timeout: 30_000 });
    const card = page.locator(`article.call-card[data-call="${refund.call_id}"]`);
    assert.equal(await card.locator('div', { has: page.locator('dt', { hasText: /^Intent$/ }) }).locator('dd').innerText(), refund.intent);
    assert.deepEqual(problems, []);
  });

  test('a trace opens from a row (keyboard) and shows the server span and the upstream request', async () => {
    await visit(page, '/calls?tenant=acme&tool=crm.search_contacts&outcome=ok');
    const link = page.locator('table.calls tbody tr').first().getByRole('link', { name: /Open trace/ });
    const label = (await link.getAttribute('aria-label'))!;
    const traceId = /Open trace ([0-9a-f]{32})/.exec(label)![1]!;
    await link.focus();
    await page.keyboard.press('Enter');
    await page.waitForURL(`**/traces/${traceId}`);
    await page.waitForSelector('[data-panel=trace][data-state=ready]', { timeout: 30_000 });
    const kinds = await page.locator('table.spans tbody tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-span-kind')));
    assert.ok(kinds.includes('Server'), `spans ${kinds}`);
    assert.ok(kinds.includes('Client'), `the upstream request: ${kinds}`);
    const { body } = await api(`/api/traces/${traceId}`);
    assert.equal(kinds.length, body.spans.length);
    assert.equal(await page.locator('article.call-card').getAttribute('data-call'), body.calls[0].call_id);
    assert.match(await page.locator('table.spans').innerText(), /tools\/call crm\.search_contacts/);
    await shot(page, '05-trace');
    assert.deepEqual(problems, []);
  });

  test('a trace whose spans are still arriving says so, then shows them when they land', async () => {
    const traceId = randomBytes(16).toString('hex');
    const provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': 'crm-mcp' }),
      spanProcessors: [new SimpleSpanProcessor(new OTLPTraceExporter({ url: `${base}/v1/traces` }))],
    });
    const tracer = provider.getTracer('console-test');
    const parent = trace.setSpanContext(otelContext.active(), { traceId, spanId: randomBytes(8).toString('hex'), traceFlags: 1, isRemote: true });
    const server = tracer.startSpan('tools/call crm.search_contacts', { kind: SpanKind.SERVER, attributes: { 'mcptrail.tenant_id': 'acme' } }, parent);
    const record = { ...callRecord(Date.now(), { tenant: 'acme', tool: 'crm.search_contacts', agent: 'acme-support-bot', traceId }), span_id: server.spanContext().spanId };
    const posted = await fetch(`${base}/v1/records`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: JSON.stringify(record) + '\n' });
    assert.equal(posted.status, 200);

    await page.goto(`${base}/traces/${traceId}`);
    await page.waitForSelector('[data-panel=trace][data-state=arriving]');
    assert.match(await page.getByRole('status').innerText(), /spans are still arriving/);
    assert.equal(await page.locator('article.call-card').getAttribute('data-call'), record.call_id);
    await shot(page, '06-trace-arriving');

    const upstream = tracer.startSpan('GET', { kind: SpanKind.CLIENT }, trace.setSpan(otelContext.active(), server));
    upstream.end();
    server.end();
    await provider.forceFlush();
    await provider.shutdown();
    await page.waitForSelector('[data-panel=trace][data-state=ready]', { timeout: 30_000 });
    assert.equal(await page.locator('table.spans tbody tr').count(), 2);
    calls.unshift(record); // the audit trail has one more acme call now
    assert.deepEqual(problems, []);
  });

  test('keyboard navigation, labels and real tables', async () => {
    await visit(page, '/calls');
    const unlabelled = await page.$$eval('main input, main select, main button', (els) =>
      els.filter((el) => (el as HTMLInputElement).labels?.length === 0 && !el.getAttribute('aria-label') && !el.textContent!.trim()).map((el) => el.outerHTML),
    );
    assert.deepEqual(unlabelled, []);
    assert.ok((await page.getByRole('table').count()) >= 1);
    assert.ok((await page.getByRole('columnheader').count()) >= 10);
    assert.ok((await page.getByRole('row').count()) > 1);
    // From the top: the skip link first, then the pages.
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Skip to content');
    let focused = '';
    for (let i = 0; i < 10 && focused !== 'Alerts'; i++) {
      await page.keyboard.press('Tab');
      focused = (await page.evaluate(() => document.activeElement?.textContent)) ?? '';
    }
    assert.equal(focused, 'Alerts');
    await page.keyboard.press('Enter');
    await page.waitForURL('**/alerts');
    await drawn(page);
    assert.equal(await page.evaluate(() => document.activeElement?.tagName), 'H1', 'focus moves to the new page heading');
    assert.equal(await page.locator('[aria-current=page]').innerText(), 'Alerts');
    assert.ok((await page.locator('[data-panel=rules] tbody tr').count()) >= 6, 'every alert rule is listed');
    await shot(page, '07-alerts');
    // The fleet's time range is a labelled select, and the choice lands in the URL.
    await visit(page, '/');
    await page.getByLabel('Time range', { exact: true }).selectOption('24h');
    await page.waitForURL(/since=24h/);
    await drawn(page);
    assert.deepEqual(problems, []);
  });
});

describe('as a tenant (acme)', () => {
  let page: Page;
  let context: BrowserContext;
  before(async () => {
    ({ page, context } = await newPage());
    await signIn(page, ACME);
  });
  after(async () => {
    await context.close();
  });

  const others = ['globex', 'initech'];
  const assertNoOtherTenant = async (where: string) => {
    const text = await page.locator('main').innerText();
    for (const t of others) assert.ok(!text.includes(t), `${where} shows ${t}`);
  };

  test('the fleet overview, calls and alerts show acme only', async () => {
    assert.match(await page.locator('header').innerText(), /tenant acme/);
    await visit(page, '/?since=1h');
    const top = await tableRows(page, '[data-panel=top-tenants-by-errors]');
    assert.deepEqual(top.map((r) => r['tenant id']), ['acme']);
    assert.equal(top[0]!['total calls'], String(count(calls, (c) => c.tenant_id === 'acme')));
    assert.equal(await page.getByLabel('Tenant', { exact: true }).isDisabled(), true);
    assert.equal(await page.getByLabel('Tool', { exact: true }).count(), 0, "the fleet's tool list spans tenants: not offered");
    await assertNoOtherTenant('fleet');
    await shot(page, '08-tenant-token-fleet');

    await visit(page, '/calls');
    const rows = await tableRows(page, '[data-panel=calls]');
    assert.equal(rows.length, count(calls, (c) => c.tenant_id === 'acme'));
    assert.ok(rows.every((r) => r.tenant === 'acme'));
    await assertNoOtherTenant('calls');

    await visit(page, '/tenants/acme?since=1h');
    assert.equal(await page.locator('[data-state=error]').count(), 0);
    await visit(page, '/alerts');
    await assertNoOtherTenant('alerts');
  });

  test('another tenant is refused in words, and its traces show nothing', async () => {
    await visit(page, '/tenants/initech');
    assert.match(await page.getByRole('alert').innerText(), /scoped to tenant acme; it cannot read initech/);
    await shot(page, '09-tenant-token-refused');

    await visit(page, '/calls?tenant=initech');
    assert.match(await page.getByRole('alert').innerText(), /Not allowed:.*scoped to another tenant/);

    const initech = calls.find((c) => c.tenant_id === 'initech')!;
    await page.goto(`${base}/traces/${initech.trace_id}`);
    await page.waitForSelector('[data-panel=trace]:not([data-state=loading])');
    assert.equal(await page.locator('table.spans tbody tr').count(), 0);
    assert.equal(await page.locator('article.call-card').count(), 0);
    assert.ok(!(await page.locator('main').innerText()).includes(initech.agent_id));

    // The panel API refuses too, to the page's own requests.
    const status = await page.evaluate(async () => (await fetch('/api/panels/tenant/error-rate?tenant=globex', { headers: { 'x-mcptrail-console': '1' } })).status);
    assert.equal(status, 403);
  });

  test('signing out clears the cookie and asks for a token again', async () => {
    await visit(page, '/');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForSelector('main[data-page=signin]');
    assert.equal((await context.cookies()).some((c) => c.name === 'mcptrail_read'), false);
  });
});

describe('without read tokens (the demo default)', () => {
  test('the console opens without a sign-in and shows the fleet', async () => {
    const open = await startTestCollector();
    const { context, page, problems } = await newPage();
    try {
      await insertCalls(open.store, [callRecord(Date.now() - 60_000, { tenant: 'umbrella', tool: 'crm.search_contacts' })]);
      await page.goto(open.base + '/');
      await drawn(page);
      assert.equal(await page.locator('main').getAttribute('data-page'), 'fleet');
      assert.match(await page.locator('header').innerText(), /open \(no read tokens\)/);
      const top = await tableRows(page, '[data-panel=top-tenants-by-errors]');
      assert.deepEqual(top.map((r) => [r['tenant id'], r['total calls']]), [['umbrella', '1']]);
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
      await open.close();
    }
  });
});
