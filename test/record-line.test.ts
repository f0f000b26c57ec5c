/**
 * The sink writes the `tool_call` line from the record's JSON, serialised
 * once, bypassing `logger.info`. That shortcut is only worth having if the
 * line is exactly what pino would have written: these tests compare the two.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { createLogger, createRecordSink, emptyRecord, type CallRecord } from '../packages/mcptrail/src/record/index.js';
import { recordLineWriter } from '../packages/mcptrail/src/record/record-line.js';

function memory(): { stream: Writable; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      cb();
    },
  });
  return { stream, lines };
}

const record = (): CallRecord => ({
  ...emptyRecord(),
  call_id: randomUUID(),
  ts: new Date().toISOString(),
  tool: 'crm.search',
  tenant_id: 'acme',
  agent_id: 'bot "quoted" \u2028',
  scopes_granted: ['a:b', 'c:d'],
  args_summary: '{"q":{"type":"string","len":3}}',
});

/** Equal but for pino's clock. */
const withoutTime = (line: string) => line.replace(/"time":\d+/, '"time":0');

test('the fast record line is byte-for-byte the line logger.info writes', () => {
  const { stream, lines } = memory();
  const logger = createLogger({ destination: stream, name: 'crm-mcp' }).child({ instance: 'i-1' });
  assert.ok(recordLineWriter(logger), 'the fast path is taken for a createLogger logger');
  const r = record();
  createRecordSink({ logger }).emit(r);
  logger.info({ record: r }, 'tool_call');
  assert.equal(lines.length, 2);
  assert.equal(withoutTime(lines[0]!), withoutTime(lines[1]!));
  assert.deepEqual(JSON.parse(lines[0]!).record, r);
});

test('a logger with extra redact paths keeps pino redaction on the record line', () => {
  const { stream, lines } = memory();
  const logger = createLogger({ destination: stream, redact: ['record.subject'] });
  assert.equal(recordLineWriter(logger), undefined, 'no shortcut when a redact path may match a record field');
  createRecordSink({ logger }).emit({ ...record(), subject: 'user:alice@acme.example' });
  assert.equal(JSON.parse(lines[0]!).record.subject, '[REDACTED]');
});

test('below info level, nothing is written', () => {
  const { stream, lines } = memory();
  const logger = createLogger({ destination: stream, level: 'warn' });
  createRecordSink({ logger }).emit(record());
  assert.equal(lines.length, 0);
});
