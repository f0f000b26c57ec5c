/**
 * The first five minutes with a fresh clone (issue 11 item 7), each as it
 * was seen: `mcptrail calls --json | head -c 2000` crashed with EPIPE;
 * `mcptrail trace <id>` right after a call said "0 span(s)" with no word
 * that spans were on their way; the demo's own agents printed
 * MaxListenersExceededWarning by the thousand during the noisy incident.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { getEventListeners } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startAgentFleet } from '../packages/collector/src/demo/agents.js';
import { startDemo } from '../packages/collector/src/demo/index.js';
import { NOISY_AGENT } from '../packages/collector/src/demo/tenants.js';
import { callRecord, ndjson, postRecords, startTestCollector, type TestCollector } from './support/reliability-collector.js';

const CLI = join(import.meta.dirname, '..', 'packages', 'collector', 'bin', 'mcptrail.js');
let collector: TestCollector;

before(async () => {
  collector = await startTestCollector();
});
after(() => collector.close());

function runCli(args: string[], opts: { closeAfterBytes?: number } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, MCPTRAIL_COLLECTOR_URL: collector.base }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  child.stdout.on('data', (d) => {
    stdout += d;
    // What `head -c N` does: read N bytes, then close the pipe.
    if (opts.closeAfterBytes !== undefined && stdout.length >= opts.closeAfterBytes) child.stdout.destroy();
  });
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

test('`mcptrail calls --json | head -c 2000`: the reader leaving early is not a crash', async () => {
  const records = Array.from({ length: 400 }, () => callRecord());
  assert.equal((await postRecords(collector.base, ndjson(records))).status, 200);
  const { code, stderr } = await runCli(['calls', '--json', '--limit', '400'], { closeAfterBytes: 2000 });
  assert.doesNotMatch(stderr, /EPIPE|Error/, stderr);
  assert.equal(code, 0);
});

test('`mcptrail trace` before the spans arrive says they are on their way', async () => {
  const traceId = randomBytes(16).toString('hex');
  const record = callRecord({ trace_id: traceId, span_id: randomBytes(8).toString('hex') });
  assert.equal((await postRecords(collector.base, ndjson([record]))).status, 200);
  const { code, stdout } = await runCli(['trace', traceId]);
  assert.equal(code, 0);
  assert.match(stdout, /0 span\(s\), 1 call record\(s\)/);
  assert.match(stdout, /not stored yet: spans are exported in batches and arrive within seconds/);
});

test("the demo agents leave no abort listeners behind on the transport's signal (the MaxListenersExceededWarning flood)", async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'mcptrail-first-minutes-'));
  const demo = await startDemo({ collectorUrl: collector.base, dataDir, mcpPort: 0, upstreamPort: 0, ratePerAgent: 0, incidents: false, limits: false });
  // Every signal handed to fetch, to count the listeners left on each afterwards.
  const signals = new Set<AbortSignal>();
  const realFetch = globalThis.fetch;
  globalThis.fetch = (input, init) => {
    if (init?.signal) signals.add(init.signal);
    return realFetch(input, init);
  };
  const warnings: string[] = [];
  const onWarning = (w: Error) => void (w.name === 'MaxListenersExceededWarning' && warnings.push(w.message));
  process.on('warning', onWarning);
  try {
    const agent = demo.file.agents.find((a) => a.agentId === 'acme-support-bot')!;
    // The noisy importer's shape (its mix, 8 loops over one client transport), with a demo agent's token.
    const fleet = await startAgentFleet({ mcpUrl: demo.file.mcpUrl, collectorUrl: collector.base, agents: [{ ...NOISY_AGENT, ...agent }], ratePerAgent: 400, loopsPerAgent: 8 });
    while (fleet.stats.calls < 300) await new Promise((r) => setTimeout(r, 50));
    let worst = 0;
    for (const s of signals) worst = Math.max(worst, getEventListeners(s, 'abort').length);
    await fleet.stop();
    assert.ok(fleet.stats.ok > 100, `calls answered: ${JSON.stringify(fleet.stats)}`);
    assert.ok(worst <= 8, `a signal passed to fetch holds ${worst} abort listeners after ${fleet.stats.calls} calls`);
    assert.deepEqual(warnings, []);
  } finally {
    globalThis.fetch = realFetch;
    process.off('warning', onWarning);
    await demo.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
