/**
 * The embedded store's insert staging (store/embedded.ts): payloads pass through
 * files under `<engine dir>/insert-staging`, which holds nothing once an insert
 * settled and is emptied at open (a crash can leave a payload behind); a block
 * re-sent with its dedup token is still skipped. Its own file: chdb binds one
 * data directory per process (the glob-path case is store-staging-glob.test.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { emptyRecord } from '../packages/mcptrail/src/record/schema.js';
import { openStore, migrate, embeddedPath, TABLES } from '../packages/collector/src/store/index.js';

test('staging is emptied at open and after each insert; a re-sent block with its token is skipped', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'mcptrail-staging-'));
  const staging = join(embeddedPath(dataDir), 'insert-staging');
  mkdirSync(staging, { recursive: true });
  writeFileSync(join(staging, 'stale.ndjson'), '{}\n');
  const store = await openStore({ dataDir });
  try {
    assert.equal(existsSync(join(staging, 'stale.ndjson')), false);
    await migrate(store);
    const line = () => JSON.stringify({ ...emptyRecord(), ts: new Date().toISOString(), call_id: randomUUID(), tenant_id: 'staging', tool: 't', outcome: 'ok' });
    const block = `${line()}\n${line()}\n`;
    await store.insertNDJSON(TABLES.toolCalls, block, { dedupToken: 'staging-1' });
    await store.insertNDJSON(TABLES.toolCalls, block, { dedupToken: 'staging-1' });
    const [c] = await store.query<{ n: number }>(`SELECT count() AS n FROM ${TABLES.toolCalls} WHERE tenant_id = 'staging'`);
    assert.equal(Number(c!.n), 2);
    assert.deepEqual(readdirSync(staging), []);
  } finally {
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
