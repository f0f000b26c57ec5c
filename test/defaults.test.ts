/**
 * What instrument(server) takes from the environment when given nothing:
 * where records, spans and metrics go (and which variable wins), and the
 * default spool directory when another live process holds it.
 */
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { instrument, shutdown } from '../packages/mcptrail/src/instrument/index.js';
import { resolveTargets } from '../packages/mcptrail/src/telemetry/targets.js';

test('targets: per-signal OTLP variables win even over a URL in code; the base URL in code wins over the generic ones', () => {
  const none = resolveTargets({}, {});
  assert.deepEqual([none.recordsUrl, none.tracesUrl, none.metricsUrl], ['http://127.0.0.1:4318/v1/records', 'http://127.0.0.1:4318/v1/traces', 'http://127.0.0.1:4318/v1/metrics']);

  const collector = resolveTargets({}, { MCPTRAIL_COLLECTOR_URL: 'http://c:4318/' });
  assert.deepEqual([collector.recordsUrl, collector.tracesUrl], ['http://c:4318/v1/records', 'http://c:4318/v1/traces']);

  const otlp = resolveTargets({}, { MCPTRAIL_COLLECTOR_URL: 'http://c:4318', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel:4318' });
  assert.deepEqual([otlp.recordsUrl, otlp.tracesUrl, otlp.metricsUrl], ['http://c:4318/v1/records', 'http://otel:4318/v1/traces', 'http://otel:4318/v1/metrics'], 'OTLP variables move spans and metrics, never records');

  const code = resolveTargets({ collectorUrl: 'http://code:1' }, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://traces:9/custom' });
  assert.equal(code.recordsUrl, 'http://code:1/v1/records');
  assert.equal(code.tracesUrl, 'http://traces:9/custom', 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is used as is, over the code');
  assert.equal(code.metricsUrl, 'http://code:1/v1/metrics', 'the code wins over the generic endpoint');

  const auth = resolveTargets({}, { MCPTRAIL_INGEST_TOKEN: 'tok', OTEL_EXPORTER_OTLP_METRICS_HEADERS: 'authorization=Basic%20abc,x-team=a' });
  assert.equal(auth.token, 'tok');
  assert.equal(auth.traceHeaders.authorization, 'Bearer tok');
  assert.deepEqual(auth.metricHeaders, { authorization: 'Basic abc', 'x-team': 'a' }, 'an explicit authorization header is kept');
});

test('the default spool directory held by another live process: the next slot is used, for records and spans', async () => {
  const root = mkdtempSync(join(tmpdir(), 'mcptrail-defaults-'));
  const dir = join(root, 'svc');
  // Another process (a second replica) holds the spool directory.
  const holder = fork(join(import.meta.dirname, 'support', 'hold-spool.ts'), [dir], { execArgv: ['--conditions=mcptrail-source', '--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  await new Promise<void>((resolve, reject) => {
    holder.once('message', () => resolve());
    holder.once('exit', (code) => reject(new Error(`holder exited ${code}`)));
  });
  try {
    const server = new McpServer({ name: 'svc', version: '1' });
    instrument(server, { spoolDir: dir, collectorUrl: 'http://127.0.0.1:9', handleSignals: false });
    assert.ok(existsSync(`${dir}.2`), `slot 2 taken: ${readdirSync(root).join(', ')}`);
    assert.ok(existsSync(join(`${dir}.2`, 'spans')), 'the spans spool next to the records, in the same slot');
    await shutdown();
  } finally {
    holder.kill();
    rmSync(root, { recursive: true, force: true });
  }
});
