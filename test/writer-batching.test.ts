/**
 * BatchWriter's group commit (minRows): a batch worth an insert goes at once
 * when the table is idle, rows that gather during an insert go as soon as it
 * lands, and a trickle below minRows still waits for maxDelayMs.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { BatchWriter, DEFAULT_BATCH } from '../packages/collector/src/collector/writer.js';
import type { Store } from '../packages/collector/src/store/index.js';

function fakeStore(insertMs: number) {
  const inserts: { at: number; rows: number }[] = [];
  const started = performance.now();
  const store = {
    driver: 'embedded',
    exec: async () => {},
    query: async () => [],
    insertNDJSON: async (_table: string, body: Buffer | string) => {
      const text = body.toString();
      inserts.push({ at: performance.now() - started, rows: text.split('\n').filter(Boolean).length });
      await new Promise((r) => setTimeout(r, insertMs));
      return { rowsWritten: undefined };
    },
    ping: async () => true,
    close: async () => {},
  } as unknown as Store;
  return { store, inserts };
}

// The writer's timers are unref'd (they never hold a process open): keep the loop alive meanwhile.
let keepAlive: NodeJS.Timeout;
before(() => {
  keepAlive = setInterval(() => {}, 1_000);
});
after(() => clearInterval(keepAlive));

const rows = (n: number, tag: string) => ({ ndjson: Array.from({ length: n }, (_, i) => `{"r":"${tag}${i}"}\n`).join(''), rows: n });

test('an idle table inserts a batch of ≥ minRows at once, not after maxDelayMs', async () => {
  const { store, inserts } = fakeStore(5);
  const w = new BatchWriter(store, { ...DEFAULT_BATCH, maxDelayMs: 60_000, minRows: 10 });
  const t0 = performance.now();
  await w.write('t', rows(10, 'a'));
  assert.ok(performance.now() - t0 < 5_000, 'did not wait for the 60 s timer');
  assert.deepEqual(inserts.map((i) => i.rows), [10]);
});

test('below minRows the batch waits for maxDelayMs (trickles stay batched)', async () => {
  const { store, inserts } = fakeStore(1);
  const w = new BatchWriter(store, { ...DEFAULT_BATCH, maxDelayMs: 150, minRows: 10 });
  const t0 = performance.now();
  await Promise.all([w.write('t', rows(3, 'a')), w.write('t', rows(3, 'b'))]);
  assert.ok(performance.now() - t0 >= 140, 'held for the timer');
  assert.deepEqual(inserts.map((i) => i.rows), [6], 'one insert for both writes');
});

test('rows that gather during an insert go as one insert as soon as it lands', async () => {
  const { store, inserts } = fakeStore(100);
  const w = new BatchWriter(store, { ...DEFAULT_BATCH, maxDelayMs: 60_000, minRows: 10 });
  const first = w.write('t', rows(10, 'a'));
  await new Promise((r) => setTimeout(r, 10));
  const more = [w.write('t', rows(10, 'b')), w.write('t', rows(10, 'c')), w.write('t', rows(10, 'd'))];
  await Promise.all([first, ...more]);
  assert.deepEqual(inserts.map((i) => i.rows), [10, 30]);
  assert.ok(inserts[1]!.at - inserts[0]!.at < 5_000, 'the second insert followed the first, not the timer');
});

test('minRows: Infinity keeps the timer-only behaviour', async () => {
  const { store, inserts } = fakeStore(1);
  const w = new BatchWriter(store, { ...DEFAULT_BATCH, maxDelayMs: 100, minRows: Infinity });
  const t0 = performance.now();
  await w.write('t', rows(2000, 'a'));
  assert.ok(performance.now() - t0 >= 90);
  assert.deepEqual(inserts.map((i) => i.rows), [2000]);
});
