/**
 * After a crash, the rollup is rebuilt where it disagrees with the rows. A
 * SIGKILL of the process running the embedded engine between an insert's
 * `tool_calls` part and its rollup part leaves stored rows that the rollup
 * (dashboards, console, alert rules) never counts, since the shipper's re-send
 * is deduplicated; a re-sent row that dedup missed is counted twice. Both
 * states are made here on a real collector's store, as the crash leaves them.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TABLES, openMarker, repairRollup } from '../packages/collector/src/store/index.js';
import { callRecord, ndjson, postRecords, startTestCollector, type TestCollector } from './support/reliability-collector.js';

let tc: TestCollector;
before(async () => {
  tc = await startTestCollector();
});
after(async () => {
  await tc.close();
});

const MINUTE = 60_000;
const base = Math.floor(Date.now() / MINUTE) * MINUTE - 10 * MINUTE;

interface Group {
  key: string;
  calls: number;
  durationSum: number;
  retries: number;
}

/** Per minute × tenant × tool × outcome: what the rows say (each call once) and what the rollup says. */
async function groups(sql: string): Promise<Group[]> {
  const rows = await tc.store.query<{ key: string; n: string; d: number; r: string }>(sql);
  return rows.map((g) => ({ key: g.key, calls: Number(g.n), durationSum: g.d, retries: Number(g.r) }));
}
const fromRows = () =>
  groups(
    `SELECT concat(toString(toStartOfMinute(toDateTime(ts, 'UTC'))), '|', tenant_id, '|', tool, '|', outcome) AS key,
            toString(count()) AS n, round(sum(toFloat64(duration_ms)), 3) AS d, toString(sum(upstream_retries)) AS r
     FROM (SELECT * FROM ${TABLES.toolCalls} LIMIT 1 BY call_id) GROUP BY key ORDER BY key`,
  );
const fromRollup = () =>
  groups(
    `SELECT concat(toString(minute), '|', tenant_id, '|', tool, '|', outcome) AS key,
            toString(sum(calls)) AS n, round(sum(duration_ms_sum), 3) AS d, toString(sum(upstream_retries)) AS r
     FROM ${TABLES.toolCalls1m} GROUP BY key HAVING n != '0' ORDER BY key`,
  );

test('the minutes a crash left wrong in the rollup are rebuilt from the rows; the others are left alone', async () => {
  const records = [];
  for (let m = 0; m < 4; m++) {
    for (let i = 0; i < 25; i++) {
      records.push(
        callRecord({
          ts: new Date(base + m * MINUTE + i * 1000).toISOString(),
          tenant_id: i % 2 ? 'acme' : 'globex',
          tool: i % 3 ? 'crm.search' : 'crm.issue_refund',
          outcome: i % 5 ? 'ok' : 'upstream_unavailable',
          duration_ms: 10 + i,
          upstream_retries: i % 4,
        }),
      );
    }
  }
  assert.equal((await postRecords(tc.base, ndjson(records))).status, 200);
  await tc.collector.flush();
  const healthy = await fromRows();
  assert.deepEqual(await fromRollup(), healthy, 'the view keeps the rollup right while nothing crashes');
  assert.deepEqual(await repairRollup(tc.store, { sinceMs: base - MINUTE }), { minutesChecked: 4, minutesRebuilt: 0 });

  // What a cut-off insert leaves: minute 1's rows stored, its rollup part lost; and a row of minute 2 stored twice.
  await tc.store.exec(`ALTER TABLE ${TABLES.toolCalls1m} DELETE WHERE minute = toDateTime(${(base + MINUTE) / 1000}, 'UTC') SETTINGS mutations_sync = 2`);
  await tc.store.exec(
    `INSERT INTO ${TABLES.toolCalls} SETTINGS insert_deduplicate = 0 SELECT * FROM ${TABLES.toolCalls} WHERE call_id = toUUID({id:String})`,
    { id: records[2 * 25 + 3]!.call_id },
  );
  const broken = await fromRollup();
  assert.notDeepEqual(broken, healthy, 'the damage shows in the rollup');
  const untouched = broken.filter((g) => !g.key.startsWith(minuteKey(base + MINUTE)) && !g.key.startsWith(minuteKey(base + 2 * MINUTE)));

  assert.deepEqual(await repairRollup(tc.store, { sinceMs: base - MINUTE }), { minutesChecked: 4, minutesRebuilt: 2 });
  assert.deepEqual(await fromRollup(), healthy, 'every group as the rows say, each call once');
  assert.deepEqual((await fromRollup()).filter((g) => untouched.some((u) => u.key === g.key)), untouched);
  const [q] = await tc.store.query<{ p: number }>(
    `SELECT quantilesTDigestMerge(0.5, 0.95, 0.99)(duration_ms_quantiles)[2] AS p FROM ${TABLES.toolCalls1m} WHERE minute = toDateTime(${(base + MINUTE) / 1000}, 'UTC')`,
  );
  assert.ok(q!.p >= 10 && q!.p <= 34, `a rebuilt minute has its latency quantiles (p95 ${q!.p})`);
  assert.deepEqual(await repairRollup(tc.store, { sinceMs: base - MINUTE }), { minutesChecked: 4, minutesRebuilt: 0 }, 'a second pass finds nothing');
});

test('the open marker says whether the last owner of the store closed it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mcptrail-marker-'));
  try {
    const path = join(dir, 'clickhouse');
    const first = openMarker(path);
    assert.equal(first.previousRunCrashed, false);
    const afterCrash = openMarker(path); // the first owner never cleared it
    assert.equal(afterCrash.previousRunCrashed, true);
    afterCrash.clear();
    assert.equal(existsSync(`${path}.open`), false);
    assert.equal(openMarker(path).previousRunCrashed, false, 'after a clean close');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

function minuteKey(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
}
