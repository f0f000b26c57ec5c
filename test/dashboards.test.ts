/**
 * Every query in the generated dashboards runs on the embedded engine, after
 * the same variable and macro expansion Grafana applies, against seeded
 * traffic: it parses, returns the columns its panel expects, and rows that
 * make sense (the tenant dashboard for one tenant shows only that tenant).
 * The generated files are not stale.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore, migrate, type Store } from '../packages/collector/src/store/index.js';
import { ALERT_TABLES, ALERT_RULES } from '../packages/collector/src/alerts/index.js';
import { renderQuery, ALL, type TemplateVariable } from '../packages/collector/src/alerts/macros.js';
import { checkArtifacts } from '../packages/collector/src/dashboards/index.js';
import { spansToRows } from '../packages/collector/src/collector/otlp/rows.js';
import { TABLES } from '../packages/collector/src/store/index.js';
import { loadDashboards, type DashboardView, type Target } from './support/grafana-dashboards.js';
import { MINUTE, callsInMinute, insertCalls, insertSpans, rng, spansForCall, startOfMinute, type CallShape } from './support/grafana-seed.js';
import type { CallRecord, Outcome } from '../packages/mcptrail/src/record/schema.js';

const ROOT = join(import.meta.dirname, '..');
const TENANTS = ['acme', 'globex', 'initech', 'umbrella'] as const;
const TOOLS = ['crm.search_contacts', 'crm.get_contact', 'crm.update_deal'] as const;

let dir: string;
let store: Store;
let dashboards: DashboardView[];
let records: CallRecord[] = [];
const NOW = Date.now();
// The dashboards' time range in this test: the seeded two hours.
const FROM = new Date(startOfMinute(NOW) - 120 * MINUTE);
const TO = new Date(NOW);
const CTX = { from: FROM, to: TO, intervalMs: 60_000 };

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mcptrail-dash-'));
  store = await openStore({ dataDir: dir, url: '' });
  await migrate(store);

  const random = rng(42);
  const outcomes: Outcome[] = ['ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'tool_error', 'system_error', 'deadline_exceeded', 'rate_limited', 'upstream_unavailable'];
  for (let m = startOfMinute(FROM.getTime()); m < NOW - MINUTE; m += MINUTE) {
    TENANTS.forEach((tenant, ti) => {
      TOOLS.forEach((tool) => {
        const shape = (i: number): CallShape => ({
          tenant,
          tool,
          agent: `${tenant}-agent-${1 + (i % 3)}`,
          outcome: outcomes[Math.floor(random() * outcomes.length)],
          durationMs: 40 + random() * 200 * (ti + 1),
          authRefresh: random() < 0.05 ? 1 : 0,
          authRefreshFailed: tenant === 'globex' && random() < 0.02 ? 1 : 0,
          upstreamRetries: random() < 0.1 ? 1 : 0,
        });
        records.push(...callsInMinute(m, 3 + ti, shape));
      });
    });
  }
  await insertCalls(store, records);
  await insertSpans(store, records.slice(-20).flatMap(spansForCall));
  await store.insertNDJSON(
    ALERT_TABLES.alertEvents,
    [
      { ts: new Date(NOW - 30 * MINUTE).toISOString(), rule_uid: 'mcptrail-auth-refresh-failures', alertname: 'MCP auth refresh failures', state: 'firing', severity: 'critical', tenant_id: 'globex', fingerprint: 'f1', labels: { tenant_id: 'globex' }, value: 3, starts_at: new Date(NOW - 30 * MINUTE).toISOString(), summary: 'Tenant globex: 3 refreshes failed' },
      { ts: new Date(NOW - 10 * MINUTE).toISOString(), rule_uid: 'mcptrail-auth-refresh-failures', alertname: 'MCP auth refresh failures', state: 'resolved', severity: 'critical', tenant_id: 'globex', fingerprint: 'f1', labels: { tenant_id: 'globex' }, value: 0, starts_at: new Date(NOW - 30 * MINUTE).toISOString(), summary: 'Tenant globex: 3 refreshes failed' },
    ]
      .map((r) => JSON.stringify(r))
      .join('\n') + '\n',
  );
  await store.insertNDJSON(ALERT_TABLES.pipelineEvents, JSON.stringify({ ts: new Date(NOW - 20 * MINUTE).toISOString(), service: 'crm-mcp', instance: 'i-1', event: 'shipper_drop', reason: 'spool_full', count: 12 }) + '\n');
  dashboards = await loadDashboards(ROOT);
});

after(async () => {
  await store?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Columns (name → ClickHouse type) of a query, without running it for rows. */
async function describe(sql: string): Promise<Map<string, string>> {
  const rows = await store.query<{ name: string; type: string }>(`DESCRIBE (${sql})`);
  return new Map(rows.map((r) => [r.name, r.type]));
}

/** "All" for every variable, as a fresh dashboard opens. */
function allSelected(d: DashboardView, options: Record<string, string[]>): TemplateVariable[] {
  return d.variables.map((v) => ({ name: v.name, value: v.includeAll ? [ALL] : (options[v.name]?.[0] ?? ''), options: options[v.name] ?? [] }));
}

async function variableOptions(d: DashboardView): Promise<Record<string, string[]>> {
  const options: Record<string, string[]> = {};
  for (const v of d.variables) {
    if (v.values) {
      options[v.name] = v.values;
      continue;
    }
    const sql = renderQuery(v.sql!, CTX, allSelected(d, options));
    const rows = await store.query<Record<string, string>>(sql);
    options[v.name] = rows.map((r) => String(Object.values(r)[0]));
  }
  return options;
}

/** The columns each panel must return (time series long format: time first). */
const EXPECTED_COLUMNS: Record<string, Record<string, string[]>> = {
  'fleet.json': {
    'Calls per second': ['time', 'calls_per_second'],
    'Error rate by outcome': ['time', 'outcome', 'share'],
    'Latency p50 / p95 / p99 per tool': ['time', 'tool', 'p50', 'p95', 'p99'],
    'Top tenants by errors': ['tenant_id', 'errors', 'total_calls', 'error_rate'],
    'Top tools by errors': ['tool', 'errors', 'total_calls', 'error_rate'],
  },
  'tenant.json': {
    'Calls per second by tool': ['time', 'tool', 'value'],
    'Error rate': ['time', 'error_rate'],
    'Errors by class': ['time', 'outcome', 'value'],
    'Latency p50 / p95 / p99 per tool': ['time', 'tool', 'p50', 'p95', 'p99'],
    'Rate-limit hits per second': ['time', 'tool', 'value'],
    'Deadline exhaustion': ['time', 'tool', 'value'],
    'Upstream credential refreshes and failures': ['time', 'refreshes', 'refresh_failures'],
    'Upstream retries': ['time', 'tool', 'value'],
    'Circuit breaker open (calls refused)': ['time', 'tool', 'value'],
    'Error classes': ['tool', 'outcome', 'error_class', 'error_code', 'failed_calls', 'last_seen'],
  },
  'audit.json': {
    'Tool calls': ['ts', 'tenant_id', 'agent_id', 'tool', 'tool_version', 'outcome', 'error_class', 'error_code', 'duration_ms', 'upstream_calls', 'upstream_retries', 'rate_limit_budget', 'idempotent_replay', 'trace_id', 'call_id'],
    'Calls by agent': ['agent_id', 'tenant_id', 'total_calls', 'failed_calls', 'tools_used', 'last_call'],
  },
  'incidents.json': {
    ...Object.fromEntries(ALERT_RULES.map((r) => [r.title, ['time', ...r.labelColumns, 'value']])),
    'Alert transitions': ['ts', 'state', 'alertname', 'severity', 'tenant_id', 'labels', 'value', 'summary'],
  },
};

function targetsOf(d: DashboardView): Array<{ title: string; target: Target }> {
  return d.panels.flatMap((p) => p.targets.map((target) => ({ title: p.title, target })));
}

test('the generated dashboards and provisioning files are not stale', async () => {
  assert.deepEqual(await checkArtifacts(ROOT), [], 'run `npm run dashboards`');
});

test('every panel has the columns its visualisation expects, and every query targets the ClickHouse datasource', async () => {
  for (const d of dashboards) {
    const expected = EXPECTED_COLUMNS[d.file];
    assert.deepEqual(new Set(d.panels.map((p) => p.title)), new Set(Object.keys(expected)), `${d.file} panels`);
    const options = await variableOptions(d);
    for (const { title, target } of targetsOf(d)) {
      assert.equal(target.datasource.uid, 'clickhouse');
      assert.equal(target.datasource.type, 'grafana-clickhouse-datasource');
      assert.equal(target.editorType, 'sql');
      const columns = await describe(renderQuery(target.rawSql, CTX, allSelected(d, options)));
      assert.deepEqual([...columns.keys()], expected[title], `${d.file} / ${title}`);
      if (target.format === 0) assert.match(columns.get('time')!, /^DateTime/, `${d.file} / ${title}: time column`);
    }
  }
});

test('variable queries return the seeded values, with "All" and with a concrete selection', async () => {
  const fleet = dashboards.find((d) => d.file === 'fleet.json')!;
  const fleetOptions = await variableOptions(fleet);
  assert.deepEqual(fleetOptions.tenant, [...TENANTS].sort());
  assert.deepEqual(fleetOptions.tool, [...TOOLS].sort());

  const audit = dashboards.find((d) => d.file === 'audit.json')!;
  const allAgents = await variableOptions(audit);
  assert.equal(allAgents.agent.length, TENANTS.length * 3);
  // The agent list follows the tenant selection.
  const agentVar = audit.variables.find((v) => v.name === 'agent')!;
  const acmeAgents = await store.query<{ agent_id: string }>(
    renderQuery(agentVar.sql!, CTX, [{ name: 'tenant', value: ['acme'], options: fleetOptions.tenant }]),
  );
  assert.deepEqual(acmeAgents.map((r) => r.agent_id), ['acme-agent-1', 'acme-agent-2', 'acme-agent-3']);
});

test('every panel returns rows for "All" and for concrete selections', async () => {
  for (const d of dashboards) {
    const options = await variableOptions(d);
    const concrete: TemplateVariable[] = d.variables.map((v) => {
      const pick = v.name === 'tenant' ? 'acme' : v.name === 'agent' ? 'acme-agent-1' : v.name === 'outcome' ? 'ok' : options[v.name][0];
      return { name: v.name, value: v.multi ? [pick] : pick, options: options[v.name] };
    });
    for (const selection of [allSelected(d, options), concrete]) {
      for (const { title, target } of targetsOf(d)) {
        const rows = await store.query(renderQuery(target.rawSql, CTX, selection));
        assert.ok(rows.length > 0, `${d.file} / ${title} returned no rows (${selection.map((s) => `${s.name}=${s.value}`).join(' ')})`);
      }
    }
  }
});

test('the tenant dashboard shows only the selected tenant', async () => {
  const tenant = dashboards.find((d) => d.file === 'tenant.json')!;
  const panel = tenant.panels.find((p) => p.title === 'Calls per second by tool')!;
  const minute = (r: CallRecord) => startOfMinute(Date.parse(r.ts));
  for (const t of TENANTS) {
    const vars: TemplateVariable[] = [
      { name: 'tenant', value: t },
      { name: 'tool', value: [ALL], options: [...TOOLS] },
    ];
    const rows = await store.query<{ value: number }>(renderQuery(panel.targets[0].rawSql, CTX, vars));
    // calls/s × 60 s per bucket = the tenant's seeded calls in range, and no one else's.
    const total = Math.round(rows.reduce((s, r) => s + Number(r.value) * 60, 0));
    const expected = records.filter((r) => r.tenant_id === t && minute(r) >= FROM.getTime()).length;
    assert.equal(total, expected, t);
  }
  // The error rate per minute is the tenant's non-ok share of that minute's calls.
  const errorRate = tenant.panels.find((p) => p.title === 'Error rate')!;
  for (const t of TENANTS) {
    const rows = await store.query<{ time: string; error_rate: number }>(
      renderQuery(errorRate.targets[0].rawSql, CTX, [
        { name: 'tenant', value: t },
        { name: 'tool', value: [ALL], options: [...TOOLS] },
      ]),
    );
    assert.ok(rows.length > 0, t);
    for (const r of rows) {
      const inMinute = records.filter((c) => c.tenant_id === t && minute(c) === Date.parse(r.time));
      const failed = inMinute.filter((c) => c.outcome !== 'ok').length;
      assert.ok(Math.abs(Number(r.error_rate) - failed / inMinute.length) < 1e-9, `${t} ${r.time}`);
    }
  }
  const classes = tenant.panels.find((p) => p.title === 'Error classes')!;
  const rows = await store.query<{ outcome: string }>(
    renderQuery(classes.targets[0].rawSql, CTX, [
      { name: 'tenant', value: 'globex' },
      { name: 'tool', value: ['crm.update_deal'], options: [...TOOLS] },
    ]),
  );
  const expectedFailures = records.filter((r) => r.tenant_id === 'globex' && r.tool === 'crm.update_deal' && r.outcome !== 'ok').length;
  assert.equal(rows.reduce((s, r) => s + Number((r as unknown as { failed_calls: number }).failed_calls), 0), expectedFailures);
});

test('the audit table filters by tenant, agent, tool and outcome, and links trace ids to the trace view', async () => {
  const audit = dashboards.find((d) => d.file === 'audit.json')!;
  const panel = audit.panels.find((p) => p.title === 'Tool calls')!;
  const vars: TemplateVariable[] = [
    { name: 'tenant', value: ['initech'] },
    { name: 'agent', value: ['initech-agent-2'] },
    { name: 'tool', value: ['crm.get_contact', 'crm.search_contacts'] },
    { name: 'outcome', value: ['system_error'] },
  ];
  const rows = await store.query<CallRecord>(renderQuery(panel.targets[0].rawSql, CTX, vars));
  assert.ok(rows.length > 0);
  for (const r of rows) {
    assert.equal(r.tenant_id, 'initech');
    assert.equal(r.agent_id, 'initech-agent-2');
    assert.ok(['crm.get_contact', 'crm.search_contacts'].includes(r.tool));
    assert.equal(r.outcome, 'system_error');
  }

  const [link] = panel.fieldLinks.trace_id;
  assert.equal(link.internal?.datasourceUid, 'clickhouse');
  assert.equal(link.internal?.query.format, 3);
  assert.equal(link.internal?.query.queryType, 'traces');
  // What Grafana runs when the cell is clicked: ${__value.raw} is the trace id.
  const traced = records[records.length - 1];
  const spans = await store.query<Record<string, unknown>>(link.internal!.query.rawSql.replaceAll('${__value.raw}', traced.trace_id));
  assert.equal(spans.length, 2);
  for (const col of ['traceID', 'spanID', 'parentSpanID', 'serviceName', 'operationName', 'startTime', 'duration', 'tags', 'serviceTags', 'statusCode', 'kind']) {
    assert.ok(col in spans[0], `trace view column ${col}`);
  }
  assert.ok(spans.every((s) => s.traceID === traced.trace_id));
  assert.deepEqual(spans.map((s) => s.operationName).sort(), ['GET /contacts', `tools/call ${traced.tool}`].sort());

  // Span events and links reach the trace view as `logs` and `references` (clickhouse-datasource#1262).
  const traceId = 'aa'.repeat(16);
  const startNs = BigInt(Date.now() - 60_000) * 1_000_000n;
  const { ndjson } = spansToRows({
    resourceSpans: [{ scopeSpans: [{ spans: [{
      traceId, spanId: 'bb'.repeat(8), name: 'tools/call crm.search_contacts', startTimeUnixNano: String(startNs), endTimeUnixNano: String(startNs + 5_000_000n),
      events: [{ timeUnixNano: String(startNs + 1_000_000n), name: 'retry', attributes: [{ key: 'attempt', value: { intValue: 2 } }] }],
      links: [{ traceId: 'cc'.repeat(16), spanId: 'dd'.repeat(8), attributes: [{ key: 'link.reason', value: { stringValue: 'follows' } }] }],
    }] }] }],
  });
  await store.insertNDJSON(TABLES.otelTraces, ndjson);
  const [viewed] = await store.query<{ logs: unknown; references: unknown }>(link.internal!.query.rawSql.replaceAll('${__value.raw}', traceId));
  assert.deepEqual(viewed!.logs, [{ name: 'retry', timestamp: String((startNs + 1_000_000n) / 1_000_000n), fields: [{ key: 'attempt', value: '2' }] }]);
  assert.deepEqual(viewed!.references, [{ traceID: 'cc'.repeat(16), spanID: 'dd'.repeat(8), tags: [{ key: 'link.reason', value: 'follows' }] }]);
});

test('the incidents dashboard annotates fired and resolved alerts from alert_events', async () => {
  const incidents = dashboards.find((d) => d.file === 'incidents.json')!;
  assert.equal(incidents.annotations.length, 1);
  const rows = await store.query<{ time: string; timeEnd: string; text: string; tags: string[] }>(renderQuery(incidents.annotations[0].rawSql, CTX));
  assert.equal(rows.length, 2);
  const resolved = rows.find((r) => r.tags.includes('resolved'))!;
  // A resolved alert is a region from when it fired to when it resolved.
  assert.equal(Date.parse(resolved.timeEnd) - Date.parse(resolved.time), 20 * MINUTE);
  assert.match(resolved.text, /^RESOLVED: MCP auth refresh failures/);
  assert.ok(resolved.tags.includes('globex'));
});
