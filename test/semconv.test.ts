/** The incubating semantic-convention names mcptrail copies (telemetry/semconv.ts) equal the package's constants. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as incubating from '@opentelemetry/semantic-conventions/incubating';
import * as ours from '../packages/mcptrail/src/telemetry/semconv.js';

test('every copied name equals @opentelemetry/semantic-conventions/incubating', () => {
  const copied = Object.keys(ours).filter((k) => /^(ATTR|METRIC)_|_VALUE_/.test(k));
  assert.ok(copied.length >= 15, `found ${copied.length} names`);
  for (const name of copied) {
    assert.ok(name in incubating, `${name} exists in the package`);
    assert.equal((ours as Record<string, unknown>)[name], (incubating as Record<string, unknown>)[name], name);
  }
});

test('the duration buckets are the MCP conventions\' (seconds)', () => {
  assert.deepEqual(ours.MCP_DURATION_BUCKETS_S, [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60, 120, 300]);
});
