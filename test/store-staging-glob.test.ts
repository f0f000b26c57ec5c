/**
 * file() reads its path as a glob, so an embedded store whose directory name holds
 * glob characters inserts through chdb's raw insert instead of the staging file
 * (store/embedded.ts). Its own file: chdb binds one data directory per process.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { emptyRecord } from '../packages/mcptrail/src/record/schema.js';
import { openStore, migrate, TABLES } from '../packages/collector/src/store/index.js';

test('a data directory with glob characters in its path still stores what is inserted', async () => {
  const parent = mkdtempSync(join(tmpdir(), 'mcptrail-staging-glob-'));
  const dataDir = join(parent, 'data{1}[x]*?');
  const store = await openStore({ dataDir });
  try {
    await migrate(store);
    const ids = [randomUUID(), randomUUID()];
    const body = ids.map((id) => JSON.stringify({ ...emptyRecord(), ts: new Date().toISOString(), call_id: id, tenant_id: 'glob', tool: 't', outcome: 'ok' })).join('\n');
    await store.insertNDJSON(TABLES.toolCalls, body);
    const rows = await store.query<{ id: string }>(`SELECT toString(call_id) AS id FROM ${TABLES.toolCalls} WHERE tenant_id = 'glob' ORDER BY id`);
    assert.deepEqual(rows.map((r) => r.id), [...ids].sort());
  } finally {
    await store.close();
    rmSync(parent, { recursive: true, force: true });
  }
});
