/**
 * The compiled CallRecord check (src/record/fast-validate.ts) must accept
 * exactly what CallRecordSchema (zod) accepts: a differential test over valid
 * records, per-field boundary and wrong-type values, and seeded text
 * mutations of record lines (the fuzz corpus's mutator).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileCallRecordCheck } from '../packages/collector/src/collector/processors/fast-validate.js';
import { CallRecordSchema, FIELD_NAMES, emptyRecord, type CallRecord } from '../packages/mcptrail/src/record/schema.js';
import { validateRecords, validateRecordsAsync } from '../packages/collector/src/collector/processors/records.js';
import { callRecord } from './support/reliability-collector.js';
import { mutateText, rng } from './support/reliability-fuzz.js';

const check = compileCallRecordCheck();

function agree(value: unknown, label: string): boolean {
  const zodOk = CallRecordSchema.safeParse(value).success;
  const fastOk = check!(value);
  assert.equal(fastOk, zodOk, `${label}: fast ${fastOk ? 'accepts' : 'rejects'} what zod ${zodOk ? 'accepts' : 'rejects'}: ${JSON.stringify(value)?.slice(0, 300)}`);
  return zodOk;
}

const s = (n: number, c = 'x') => c.repeat(n);

/** Values to try in every field: wrong types, boundaries of every length and range the schema uses. */
const GENERIC: unknown[] = [
  undefined, null, true, false, 0, -0, 1, -1, 0.5, 1e21, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER + 2, Infinity, -Infinity,
  '', ' ', '0', 'true', [], [''], ['a'], {}, { a: 1 },
  ...[16, 31, 32, 33, 63, 64, 65, 127, 128, 129, 255, 256, 257, 8191, 8192, 8193].map((n) => s(n)),
  s(128, '💥'), s(64, '💥'), s(65, 'é'),
];

const PER_FIELD: Partial<Record<keyof CallRecord, unknown[]>> = {
  ts: [
    '2026-11-23T19:00:00Z', '2026-11-23T19:00:00.123Z', '2026-11-23T19:00:00.123456789Z', '2026-11-23T19:00:00+02:00', '2026-11-23T19:00:00-23:59',
    '2026-11-23T19:00:00+24:00', '2026-11-23T19:00:00+0200', '2026-11-23T19:00:00', '2026-11-23 19:00:00Z', '2026-11-23T19:00:00z', '2026-11-23T24:00:00Z',
    '2026-11-23T19:60:00Z', '2026-11-23T19:00:60Z', '2024-02-29T00:00:00Z', '2023-02-29T00:00:00Z', '2000-02-29T00:00:00Z', '1900-02-29T00:00:00Z',
    '2026-04-31T00:00:00Z', '2026-13-01T00:00:00Z', '2026-00-01T00:00:00Z', '2026-11-23T19:00Z', '2026-11-23T19:00:00.Z', '+2026-11-23T19:00:00Z',
    '1970-01-01T00:00:00.000Z', '9999-12-31T23:59:59.999Z', ' 2026-11-23T19:00:00Z', '2026-11-23T19:00:00Z\n', '２026-11-23T19:00:00Z',
  ],
  call_id: [
    '00000000-0000-4000-8000-000000000000', '00000000-0000-0000-0000-000000000000', 'ffffffff-ffff-ffff-ffff-ffffffffffff', 'FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF',
    '6F9619FF-8B86-D011-B42D-00C04FC964FF', '6f9619ff-8b86-0011-b42d-00c04fc964ff', '6f9619ff-8b86-9011-b42d-00c04fc964ff', '6f9619ff-8b86-8011-742d-00c04fc964ff',
    '6f9619ff-8b86-8011-c42d-00c04fc964ff', '6f9619ff8b868011b42d00c04fc964ff', '{6f9619ff-8b86-8011-b42d-00c04fc964ff}', '6f9619ff-8b86-8011-b42d-00c04fc964ff\n',
    '6f9619ff-8b86-4011-a42d-00c04fc964fg', '6f9619ff-8b86-7011-B42D-00c04fc964ff',
  ],
  trace_id: ['4bf92f3577b34da6a3ce929d0e0e4736', '4BF92F3577B34DA6A3CE929D0E0E4736', '4bf92f3577b34da6a3ce929d0e0e473', '4bf92f3577b34da6a3ce929d0e0e47366', '4bf92f3577b34da6a3ce929d0e0e473g', '4bf92f3577b34da6a3ce929d0e0e4736\n'],
  span_id: ['00f067aa0ba902b7', '00F067AA0BA902B7', '00f067aa0ba902b', '00f067aa0ba902b77', '00f067aa0ba902bz', '00f067aa0ba902b7\n'],
  auth_method: ['jwt', 'api_key', 'none', 'JWT', 'oauth', ''],
  outcome: ['ok', 'tool_error', 'system_error', 'deadline_exceeded', 'rate_limited', 'denied', 'unauthenticated', 'upstream_unavailable', 'OK', 'error'],
  rate_limit_budget: ['', 'agent', 'tool', 'tenant', 'concurrency', 'Agent', 'global'],
  scopes_granted: [Array(64).fill('a'), Array(65).fill('a'), ['a', 1], [null], [s(128)], [s(129)], ['a', ['b']]],
  duration_ms: [0, 0.001, 86_400_000, 86_400_000.5, 86_400_001, -0.001, 1e-300, 5e-324],
  upstream_calls: [999_999, 1_000_000, 1_000_001, 1.5, -0],
  budget_ms_total: [999_999, 1_000_000, 1_000_001, 86_400_000, 2.5],
  budget_ms_used: [1_000_000, 1_000_001, 86_400_001],
  auth_refresh: [255, 256, 1_000_000, 1_000_001],
};

test('the compiled check exists for the current FIELDS (the fast path is in use)', () => {
  assert.ok(check, 'compileCallRecordCheck() returned undefined: some field uses a zod construct the compiler does not model');
});

test('valid records: both accept', () => {
  const records = [emptyRecord(), callRecord(), callRecord({ outcome: 'denied', scopes_granted: ['a', 'b'], duration_ms: 12.5, trace_id: '4bf92f3577b34da6a3ce929d0e0e4736', span_id: '00f067aa0ba902b7' })];
  for (const r of records) assert.equal(agree(JSON.parse(JSON.stringify(r)), 'valid'), true);
});

test('every field: boundary values and wrong types agree with zod', () => {
  let accepted = 0;
  let rejected = 0;
  for (const field of FIELD_NAMES) {
    for (const value of [...GENERIC, ...(PER_FIELD[field] ?? [])]) {
      const r: Record<string, unknown> = { ...callRecord() };
      if (value === undefined) delete r[field];
      else r[field] = value;
      if (agree(r, `${field}=${String(value).slice(0, 40)}`)) accepted++;
      else rejected++;
    }
  }
  assert.ok(accepted > 100 && rejected > 500, `both outcomes exercised (${accepted} accepted, ${rejected} rejected)`);
});

test('object shape: non-objects, unknown keys, __proto__, missing fields agree with zod', () => {
  for (const v of [null, [], 'x', 1, true, [callRecord()]]) agree(v, 'non-object');
  agree({ ...callRecord(), extra: 1 }, 'unknown key');
  agree(JSON.parse(JSON.stringify(callRecord()).replace(/^\{/, '{"__proto__":{"x":1},')), '__proto__ key');
  agree(JSON.parse(JSON.stringify(callRecord()).replace(/^\{/, '{"constructor":1,')), 'constructor key');
  agree({}, 'empty object');
});

test('seeded mutations of record lines (the fuzz mutator): fast and zod agree on every parseable line', () => {
  const random = rng(20261123);
  const seeds = [emptyRecord(), callRecord(), callRecord({ outcome: 'rate_limited', rate_limited: true, rate_limit_budget: 'tool', scopes_granted: ['crm:read'] })].map((r) => JSON.stringify(r));
  let parsed = 0;
  let accepted = 0;
  for (let i = 0; i < 20_000; i++) {
    let line = seeds[i % seeds.length]!;
    for (let k = 0, n = 1 + Math.floor(random() * 3); k < n; k++) line = mutateText(line, random);
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      continue;
    }
    parsed++;
    if (agree(v, `mutation ${i}`)) accepted++;
  }
  assert.ok(parsed > 3000 && accepted > 150, `mutations exercised both outcomes (${parsed} parsed, ${accepted} accepted)`);
});

test('validateRecords: an accepted line stores the same values zod would have produced', () => {
  const r = { ...callRecord(), scopes_granted: ['b', 'a'], duration_ms: 1.25, args_summary: '{"q":"\\u00e9"}' };
  // Keys out of schema order and an escaped character: values must survive, whatever the key order.
  const line = JSON.stringify(Object.fromEntries(Object.entries(r).reverse())).replace('é', '\\u00e9');
  const out = validateRecords(Buffer.from(line + '\n'));
  assert.equal(out.lines.length, 1);
  assert.deepEqual(JSON.parse(out.lines[0]!), CallRecordSchema.parse(JSON.parse(line)));
});

test('a record without a defaulted field (spooled by an older library) is accepted and stored with the default, as zod would', () => {
  const { calls_in_request: _, ...old } = callRecord();
  const line = JSON.stringify(old);
  assert.ok(!line.includes('calls_in_request'));
  assert.equal(agree(JSON.parse(line), 'record without calls_in_request'), true);
  const out = validateRecords(Buffer.from(line + '\n'));
  assert.equal(JSON.parse(out.lines[0]!).calls_in_request, 1);
  assert.deepEqual(JSON.parse(out.lines[0]!), CallRecordSchema.parse(JSON.parse(line)));
  agree({ ...callRecord(), calls_in_request: null }, 'calls_in_request null');
  agree({ ...callRecord(), calls_in_request: -1 }, 'calls_in_request negative');
});

test('a record spooled before migration 7 (no era, client, method, round or task fields) validates with the defaults of what it was', () => {
  const migration7 = ['protocol_version', 'client_name', 'client_version', 'mcp_method', 'record_kind', 'task_id', 'logical_call_id', 'round', 'input_requests_summary', 'input_responses_summary'];
  const old = Object.fromEntries(Object.entries(callRecord()).filter(([k]) => !migration7.includes(k)));
  const line = JSON.stringify(old);
  assert.equal(agree(JSON.parse(line), 'record without the migration 7 fields'), true);
  const stored = JSON.parse(validateRecords(Buffer.from(line + '\n')).lines[0]!);
  assert.deepEqual(stored, CallRecordSchema.parse(old));
  // Every record written before the fields existed was one tools/call, of one round, not a task.
  assert.deepEqual(
    migration7.map((k) => stored[k]),
    ['', '', '', 'tools/call', 'call', '', '', 1, '', ''],
  );
  agree({ ...callRecord(), record_kind: 'job' }, 'record_kind outside the enum');
  agree({ ...callRecord(), round: 0 }, 'round 0 (accepted: a count)');
  agree({ ...callRecord(), round: 1.5 }, 'round not an integer');
  agree({ ...callRecord(), client_name: 'x'.repeat(129) }, 'client_name too long');
});

test('validateRecordsAsync (yields every 1,000 lines) matches validateRecords and names a bad line past the first slice', async () => {
  const lines = Array.from({ length: 2500 }, () => JSON.stringify(callRecord()));
  const body = Buffer.from(lines.join('\n') + '\n');
  assert.deepEqual(await validateRecordsAsync(body), validateRecords(body));
  lines[1799] = JSON.stringify({ ...callRecord(), outcome: 'nope' });
  await assert.rejects(validateRecordsAsync(Buffer.from(lines.join('\n'))), (err: Error) => {
    assert.match(err.message, /^line 1800: outcome: /);
    return true;
  });
});
