/** Output allow-lists: only the listed paths survive, whatever order or overlap the list has. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyAllowList, compileAllowList } from '../packages/mcptrail/src/instrument/allow-list.js';

const answer = { id: 'LEAK-top', deal: { id: 'D-1', stage: 'won', secret: 's' }, x: { y: { secret: 'keep?' }, secret: 'LEAK-x' } };

test('a parent allowed whole does not widen the list at other levels', () => {
  assert.deepEqual(applyAllowList(answer, compileAllowList(['deal', 'deal.id'])), { deal: answer.deal });
  assert.deepEqual(applyAllowList(answer, compileAllowList(['deal.id', 'deal'])), { deal: answer.deal });
  assert.deepEqual(applyAllowList(answer, compileAllowList(['x.y', 'x.y.secret'])), { x: { y: { secret: 'keep?' } } });
});

test('arrays are transparent and unlisted fields are dropped', () => {
  const value = { contacts: [{ id: 'C-1', name: 'Ada', email: 'ada@example.com' }, { id: 'C-2', name: 'Grace', email: 'g@example.com' }], total: 2 };
  assert.deepEqual(applyAllowList(value, compileAllowList(['contacts[].id', 'contacts[].name'])), {
    contacts: [
      { id: 'C-1', name: 'Ada' },
      { id: 'C-2', name: 'Grace' },
    ],
  });
});
