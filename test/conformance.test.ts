/**
 * The official conformance suite (@modelcontextprotocol/conformance 0.1.13,
 * the newest that runs on Node 20) against the demo CRM server, through a
 * proxy that adds an agent's bearer token (the suite's client sends none).
 * The scenarios a CRM server cannot meaningfully pass are listed with their
 * reasons in conformance-baseline.yml; the runner exits non-zero on any other
 * failure, and on a listed scenario that passes.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { startDemo, type Demo } from '../packages/collector/src/demo/index.js';
import { startAuthProxy } from './support/auth-proxy.js';
import { startTestCollector, type TestCollector } from './support/reliability-collector.js';

const here = dirname(fileURLToPath(import.meta.url));
const cli = join(dirname(createRequire(import.meta.url).resolve('@modelcontextprotocol/conformance/package.json')), 'dist', 'index.js');

let tc: TestCollector;
let demo: Demo;
let proxy: Awaited<ReturnType<typeof startAuthProxy>>;

before(async () => {
  tc = await startTestCollector({ batch: { maxDelayMs: 10 } });
  demo = await startDemo({ collectorUrl: tc.base, dataDir: join(tc.dir, 'demo'), mcpPort: 0, upstreamPort: 0, ratePerAgent: 0, incidents: false });
  const agent = demo.file.agents.find((a) => a.scopes.includes('refunds:write'))!;
  proxy = await startAuthProxy(demo.file.mcpUrl, agent.token);
});

after(async () => {
  await proxy?.close();
  await demo?.close().catch(() => undefined);
  await tc?.close();
});

test('every conformance scenario a CRM server can meaningfully pass passes (the rest are listed with their reason)', async () => {
  const cwd = mkdtempSync(join(tmpdir(), 'mcptrail-conformance-'));
  const args = [cli, 'server', '--url', proxy.url, '--suite', 'all', '--expected-failures', join(here, 'conformance-baseline.yml')];
  const child = spawn(process.execPath, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (c) => (output += c));
  child.stderr.on('data', (c) => (output += c));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  const summary = output.slice(output.lastIndexOf('=== SUMMARY ==='));
  assert.equal(code, 0, summary || output.slice(-4000));
  // What passes, by name: the handshake, ping, the tool list, and DNS-rebinding protection (Origin validation).
  for (const scenario of ['server-initialize', 'ping', 'tools-list', 'dns-rebinding-protection']) {
    assert.match(summary, new RegExp(`✓ ${scenario}: [1-9]\\d* passed, 0 failed`), scenario);
  }
});
