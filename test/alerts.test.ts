/**
 * Alerting, end to end: macro expansion matches the ClickHouse plugin; the
 * provisioning carries each rule's SQL unchanged; and an incident on seeded
 * data fires exactly the matching alerts (pending first, honouring `for`),
 * delivered to a real Alertmanager and a webhook without duplicates, then
 * resolved once the data recovers.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { openStore, migrate, type Store } from '../packages/collector/src/store/index.js';
import {
  ALERT_RULES,
  ALERT_TABLES,
  AlertEvaluator,
  alertmanagerNotifier,
  applyTemplateVariables,
  expandMacros,
  webhookNotifier,
  type AlertsSnapshot,
} from '../packages/collector/src/alerts/index.js';
import { alertsCommand } from '../packages/collector/src/cli/alerts.js';
import { createCollector } from '../packages/collector/src/collector/index.js';
import { ALERTMANAGER_BIN, startAlertmanager, startWebhookReceiver, type RunningAlertmanager, type WebhookReceiver } from './support/alertmanager.js';
import { MINUTE, callsInMinute, insertCalls, startOfMinute, type CallShape } from './support/grafana-seed.js';
import type { CallRecord } from '../packages/mcptrail/src/record/schema.js';

const ROOT = join(import.meta.dirname, '..');

// ---------------------------------------------------------------------------
// Macros: the plugin's own test vectors (pkg/macros/macros_test.go)

const FROM = new Date('2014-11-12T11:45:26.371Z');
const TO = new Date('2015-11-12T11:45:26.371Z');

test('backend macros expand exactly as the ClickHouse plugin does', () => {
  const ctx = { from: FROM, to: TO, intervalMs: 30_000 };
  const cases: Array<[string, string]> = [
    ['$__timeFilter(minute)', 'minute >= toDateTime(1415792726) AND minute <= toDateTime(1447328726)'],
    ['$__timeFilter_ms(ts)', 'ts >= fromUnixTimestamp64Milli(1415792726371) AND ts <= fromUnixTimestamp64Milli(1447328726371)'],
    ['$__fromTime', 'toDateTime(1415792726)'],
    ['$__toTime', 'toDateTime(1447328726)'],
    ['$__fromTime_ms', 'fromUnixTimestamp64Milli(1415792726371)'],
    ['$__toTime_ms', 'fromUnixTimestamp64Milli(1447328726371)'],
    ['$__dateFilter(d)', "d >= toDate('2014-11-12') AND d <= toDate('2015-11-12')"],
    ['$__timeInterval(ts)', 'toStartOfInterval(toDateTime(ts), INTERVAL 30 second)'],
    ['$__timeInterval_ms(ts)', 'toStartOfInterval(toDateTime64(ts, 3), INTERVAL 30000 millisecond)'],
    ['$__interval_s', '30'],
    ['$__timeGroup(ts, 5m)', 'toStartOfInterval(toDateTime(ts), INTERVAL 300 second)'],
    ["$__timeGroup(ts, '1h30m')", 'toStartOfInterval(toDateTime(ts), INTERVAL 5400 second)'],
    // Nested parentheses in an argument; unknown macros and macros in comments/strings are left alone.
    ['$__timeFilter(toDateTime(ts, \'UTC\'))', "toDateTime(ts, 'UTC') >= toDateTime(1415792726) AND toDateTime(ts, 'UTC') <= toDateTime(1447328726)"],
    ['$__unknown(x)', '$__unknown(x)'],
    ["-- $__fromTime\nSELECT '$__toTime'", "-- $__fromTime\nSELECT '$__toTime'"],
  ];
  for (const [input, expected] of cases) assert.equal(expandMacros(input, ctx), expected, input);
  // Interval below a second is clamped to 1, like math.Max(seconds, 1).
  assert.equal(expandMacros('$__interval_s', { from: FROM, to: TO, intervalMs: 200 }), '1');
  assert.throws(() => expandMacros('$__timeFilter(a, b)', ctx), /expected 1 argument/);
});

test('template variables and $__conditionalAll follow the datasource frontend', () => {
  const sql = "WHERE $__conditionalAll(tenant_id IN (${tenant:singlequote}), $tenant) AND tool IN (${tool:singlequote}) AND x = $raw";
  assert.equal(
    applyTemplateVariables(sql, [
      { name: 'tenant', value: ["o'neil", 'acme'] },
      { name: 'tool', value: ['a'] },
      { name: 'raw', value: ['p', 'q'] },
    ]),
    "WHERE tenant_id IN ('o\\'neil','acme') AND tool IN ('a') AND x = 'p','q'",
  );
  // "All" removes the condition; elsewhere "All" stands for every option.
  assert.equal(
    applyTemplateVariables(sql, [
      { name: 'tenant', value: ['$__all'], options: ['acme', 'globex'] },
      { name: 'tool', value: ['$__all'], options: ['a', 'b'] },
      { name: 'raw', value: '7' },
    ]),
    "WHERE 1=1 AND tool IN ('a','b') AND x = 7",
  );
  // An empty selection also removes it (the plugin checks '' too).
  assert.equal(applyTemplateVariables('$__conditionalAll(a IN (${v:singlequote}), ${v})', [{ name: 'v', value: '' }]), '1=1');
});

test('the provisioned rules carry each rule\'s SQL, window, threshold and for-duration unchanged', async () => {
  const file = parse(await readFile(join(ROOT, 'dashboards/provisioning/alerting/rules.yaml'), 'utf8'));
  const rules = file.groups[0].rules as Array<Record<string, any>>;
  assert.deepEqual(rules.map((r) => r.uid), ALERT_RULES.map((r) => r.uid));
  for (const rule of ALERT_RULES) {
    const p = rules.find((r) => r.uid === rule.uid)!;
    const [a, b, c] = p.data;
    assert.equal(a.model.rawSql, rule.sql);
    assert.equal(a.model.format, 1);
    assert.deepEqual(a.relativeTimeRange, rule.window);
    assert.equal(b.model.type, 'reduce');
    assert.equal(b.model.reducer, 'last');
    assert.deepEqual(c.model.conditions[0].evaluator, { type: rule.threshold.type, params: [rule.threshold.value] });
    assert.equal(p.condition, 'C');
    assert.equal(p.labels.severity, rule.severity);
    // Label sets unique per row: the query groups by exactly its label columns.
    assert.match(rule.sql, new RegExp(`GROUP BY ${rule.labelColumns.join(', ')}(\\n|$)`));
    assert.match(rule.sql, /\$__timeFilter(_ms)?\(/);
  }
  const contactPoints = parse(await readFile(join(ROOT, 'dashboards/provisioning/alerting/contact-points.yaml'), 'utf8'));
  assert.deepEqual(
    contactPoints.contactPoints.flatMap((c: any) => c.receivers.map((r: any) => r.type)).sort(),
    ['prometheus-alertmanager', 'webhook'],
  );
});

// ---------------------------------------------------------------------------
// The incident scenario

const TENANTS = { A: 'acme', B: 'globex', C: 'initech', D: 'umbrella' } as const;
const TOOLS = ['crm.search_contacts', 'crm.get_contact', 'crm.update_deal'] as const;
const CALLS_PER_TOOL_MINUTE = 8;

// Evaluations happen at base + k minutes; the last one (k = 9) lands just before the real
// now, so Alertmanager (which compares endsAt with its wall clock) sees firing alerts as
// active and resolved ones as over.
const BASE = startOfMinute(Date.now()) - 10 * MINUTE;
const at = (k: number) => new Date(BASE + k * MINUTE);
const INCIDENT = { from: BASE - 8 * MINUTE, to: BASE + 3 * MINUTE };

function minuteOfTraffic(minute: number): CallRecord[] {
  const incident = minute >= INCIDENT.from && minute < INCIDENT.to;
  const out: CallRecord[] = [];
  for (const tenant of Object.values(TENANTS)) {
    for (const tool of TOOLS) {
      out.push(
        ...callsInMinute(minute, CALLS_PER_TOOL_MINUTE, (i): CallShape => {
          const shape: CallShape = { tenant, tool, agent: `${tenant}-agent-${1 + (i % 2)}`, durationMs: 60 + ((i * 37) % 90) };
          // Healthy noise everywhere: a business error now and then.
          if (i === 3) shape.outcome = 'tool_error';
          if (!incident) return shape;
          // A: the upstream slows past the budget for searches.
          if (tenant === TENANTS.A && tool === 'crm.search_contacts' && i % 2 === 0) return { ...shape, outcome: 'deadline_exceeded', durationMs: 2000 };
          // B: the refresh token was revoked; the one call a minute that needs a refresh fails.
          if (tenant === TENANTS.B && tool === 'crm.get_contact' && i === 0) return { ...shape, outcome: 'system_error', authRefresh: 1, authRefreshFailed: 1 };
          // C: the upstream answers 5xx.
          if (tenant === TENANTS.C && i % 3 === 1) return { ...shape, outcome: 'system_error' };
          return shape;
        }),
      );
    }
  }
  return out;
}

let dir: string;
let store: Store;
let am: RunningAlertmanager | undefined;
let receiver: WebhookReceiver;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mcptrail-alerts-'));
  store = await openStore({ dataDir: dir, url: '' });
  await migrate(store);
  const records: CallRecord[] = [];
  // 80 minutes of history (the latency rule's baseline hour) through the last evaluation.
  for (let m = BASE - 80 * MINUTE; m < BASE + 9 * MINUTE; m += MINUTE) records.push(...minuteOfTraffic(m));
  await insertCalls(store, records);
  receiver = await startWebhookReceiver();
});

after(async () => {
  await am?.stop();
  await receiver?.close();
  await store?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** What is firing/pending, as comparable strings: "<rule uid> <series labels>". */
function seriesOf(snapshot: AlertsSnapshot, state: string): string[] {
  return snapshot.alerts
    .filter((a) => a.state === state)
    .map((a) => [a.ruleUid, a.labels.tenant_id, a.labels.tool].filter(Boolean).join(' '))
    .sort();
}

async function waitFor<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const DEADLINE_A = `mcptrail-deadline-exhaustion ${TENANTS.A} crm.search_contacts`;
const AUTH_B = `mcptrail-auth-refresh-failures ${TENANTS.B}`;
const ERRORS_C = `mcptrail-tenant-error-rate ${TENANTS.C}`;

test('an incident fires exactly the matching alerts, pending first, into Alertmanager and a webhook; recovery resolves them', async () => {
  // A missing Alertmanager fails the test instead of skipping it: `.ci/run` installs Debian's package.
  assert.ok(existsSync(ALERTMANAGER_BIN), `${ALERTMANAGER_BIN} is not installed (apt-get install prometheus-alertmanager, as .ci/run does)`);
  am = await startAlertmanager(`${receiver.url}/alertmanager`);
  const evaluator = new AlertEvaluator({
    store,
    notifiers: [alertmanagerNotifier({ url: am.url }), webhookNotifier({ url: `${receiver.url}/direct` })],
    // Re-send every 3 minutes: firing alerts stay valid 12 minutes past each send, longer than this scenario's span.
    resendDelayMs: 3 * MINUTE,
  });
  const direct = () => receiver.messages.filter((m) => m.path === '/direct');
  const viaAlertmanager = () => receiver.messages.filter((m) => m.path === '/alertmanager');
  const ours = async () => (await am!.alerts()).filter((a) => a.labels.grafana_folder === 'mcptrail');

  // k=0: every condition holds, none for long enough.
  await evaluator.evaluate(at(0));
  let snap = evaluator.snapshot();
  assert.deepEqual(seriesOf(snap, 'pending'), [DEADLINE_A, AUTH_B, ERRORS_C].sort());
  assert.deepEqual(seriesOf(snap, 'firing'), []);
  assert.ok(snap.rules.every((r) => r.health === 'ok'), JSON.stringify(snap.rules));
  assert.deepEqual(await ours(), []);
  assert.equal(direct().length, 0);

  // k=1: the auth rule's 1m `for` has elapsed; the 2m rules are still pending.
  await evaluator.evaluate(at(1));
  snap = evaluator.snapshot();
  assert.deepEqual(seriesOf(snap, 'firing'), [AUTH_B]);
  assert.deepEqual(seriesOf(snap, 'pending'), [DEADLINE_A, ERRORS_C].sort());

  // k=2: everything that should fire fires; the healthy tenant D has nothing at all.
  await evaluator.evaluate(at(2));
  snap = evaluator.snapshot();
  assert.deepEqual(seriesOf(snap, 'firing'), [DEADLINE_A, AUTH_B, ERRORS_C].sort());
  assert.deepEqual(seriesOf(snap, 'pending'), []);
  assert.ok(!snap.alerts.some((a) => a.labels.tenant_id === TENANTS.D));
  const deadlineAlert = snap.alerts.find((a) => a.ruleUid === 'mcptrail-deadline-exhaustion')!;
  assert.match(deadlineAlert.annotations.summary, /^crm\.search_contacts for tenant acme: 50% of calls ran out of budget$/);

  // Alertmanager holds exactly these three, with the tenant labels.
  const active = await waitFor('3 alerts in Alertmanager', async () => {
    const a = await ours();
    return a.length === 3 ? a : undefined;
  });
  assert.deepEqual(
    active.map((a) => `${a.labels.rule_uid} ${a.labels.tenant_id}${a.labels.tool ? ` ${a.labels.tool}` : ''}`).sort(),
    [DEADLINE_A, AUTH_B, ERRORS_C].sort(),
  );
  assert.ok(active.every((a) => a.status.state === 'active'));
  // Its webhook gets one page per rule × tenant.
  await waitFor('3 firing notifications via Alertmanager', () => (viaAlertmanager().length >= 3 ? true : undefined));

  // k=3..8: the incident is over, but it is still inside the window; alerts stay firing and are re-sent.
  for (let k = 3; k <= 8; k++) await evaluator.evaluate(at(k));
  assert.equal(seriesOf(evaluator.snapshot(), 'firing').length > 0, true);
  // k=9: the window holds only healthy minutes: everything resolves.
  await evaluator.evaluate(at(9));
  snap = evaluator.snapshot();
  assert.deepEqual(seriesOf(snap, 'firing'), []);
  assert.deepEqual(seriesOf(snap, 'resolved'), [DEADLINE_A, AUTH_B, ERRORS_C].sort());

  await waitFor('Alertmanager to drop the resolved alerts', async () => ((await ours()).length === 0 ? true : undefined));
  await waitFor('3 resolved notifications via Alertmanager', () =>
    viaAlertmanager().filter((m) => m.body.status === 'resolved').length >= 3 ? true : undefined,
  );
  // Give Alertmanager a moment to send anything extra it wanted to; then count.
  await new Promise((r) => setTimeout(r, 2_500));
  const amFiring = viaAlertmanager().filter((m) => m.body.status === 'firing');
  const amResolved = viaAlertmanager().filter((m) => m.body.status === 'resolved');
  const groupKey = (m: (typeof amFiring)[number]) => `${m.body.groupLabels.alertname}/${m.body.groupLabels.tenant_id}`;
  assert.equal(amFiring.length, 3, 'one firing page per group despite re-sends');
  assert.equal(new Set(amFiring.map(groupKey)).size, 3);
  assert.equal(amResolved.length, 3);

  // The direct webhook heard each alert fire once and resolve once.
  const transitions = direct().flatMap((m) => m.body.alerts.map((a) => `${a.status} ${a.labels.rule_uid} ${a.labels.tenant_id}`));
  assert.deepEqual(
    transitions.sort(),
    [
      `firing mcptrail-auth-refresh-failures ${TENANTS.B}`,
      `firing mcptrail-deadline-exhaustion ${TENANTS.A}`,
      `firing mcptrail-tenant-error-rate ${TENANTS.C}`,
      `resolved mcptrail-auth-refresh-failures ${TENANTS.B}`,
      `resolved mcptrail-deadline-exhaustion ${TENANTS.A}`,
      `resolved mcptrail-tenant-error-rate ${TENANTS.C}`,
    ].sort(),
  );

  // Transitions are in alert_events for the incidents dashboard.
  const events = await store.query<{ rule_uid: string; state: string; tenant_id: string }>(
    `SELECT rule_uid, state, tenant_id FROM ${ALERT_TABLES.alertEvents} ORDER BY state, rule_uid`,
  );
  assert.deepEqual(
    events.map((e) => `${e.state} ${e.rule_uid} ${e.tenant_id}`),
    [
      `firing mcptrail-auth-refresh-failures ${TENANTS.B}`,
      `firing mcptrail-deadline-exhaustion ${TENANTS.A}`,
      `firing mcptrail-tenant-error-rate ${TENANTS.C}`,
      `resolved mcptrail-auth-refresh-failures ${TENANTS.B}`,
      `resolved mcptrail-deadline-exhaustion ${TENANTS.A}`,
      `resolved mcptrail-tenant-error-rate ${TENANTS.C}`,
    ],
  );

  // Each alert resolved after it fired, and no earlier than the incident left the window.
  const spans = await store.query<{ rule_uid: string; fired: string; resolved: string }>(
    `SELECT rule_uid, minIf(ts, state = 'firing') AS fired, maxIf(ts, state = 'resolved') AS resolved
     FROM ${ALERT_TABLES.alertEvents} GROUP BY rule_uid`,
  );
  for (const s of spans) {
    assert.ok(Date.parse(s.resolved) > Date.parse(s.fired), s.rule_uid);
    assert.ok(Date.parse(s.resolved) >= at(3).getTime(), s.rule_uid);
  }

  // `mcptrail alerts` renders the same state.
  const text = await alertsCommand(evaluator, false);
  assert.match(text, /RESOLVED\s+MCP deadline exhaustion\s+critical\s+tenant_id=acme tool=crm\.search_contacts/);
  const json = JSON.parse(await alertsCommand(evaluator, true)) as AlertsSnapshot;
  assert.equal(json.alerts.length, 3);

  // GET /api/alerts serves the same snapshot, filterable by rule.
  const { app } = await createCollector({ store, alerts: evaluator });
  const res = await app.inject({ method: 'GET', url: '/api/alerts?rule=mcptrail-tenant-error-rate' });
  assert.equal(res.statusCode, 200);
  const body = res.json() as AlertsSnapshot;
  assert.deepEqual(body.alerts.map((a) => a.labels.tenant_id), [TENANTS.C]);
  assert.equal(body.rules.length, ALERT_RULES.length);
  await app.close();
});

test('every rule query runs on the engine after expansion and returns label columns + value', async () => {
  for (const rule of ALERT_RULES) {
    const now = at(2).getTime();
    const sql = expandMacros(rule.sql, { from: new Date(now - rule.window.from * 1000), to: new Date(now - rule.window.to * 1000) });
    const columns = await store.query<{ name: string; type: string }>(`DESCRIBE (${sql})`);
    assert.deepEqual(columns.map((c) => c.name), [...rule.labelColumns, 'value'], rule.uid);
    await store.query(sql);
  }
});
