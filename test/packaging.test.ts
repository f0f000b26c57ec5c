/**
 * What importing `mcptrail` costs a server, held as properties rather than
 * timings (the timings are BENCHMARKS.md §7): the root entry loads no
 * dependency beyond @opentelemetry/api (ioredis, pino, cockatiel,
 * rate-limiter-flexible, jose and the OpenTelemetry SDK load on first use),
 * and the manifest keeps the MCP SDK lines, fastify and sdk-node out of the
 * dependencies.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

const ROOT = join(import.meta.dirname, '..');
const manifest = JSON.parse(readFileSync(join(ROOT, 'packages', 'mcptrail', 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
  peerDependenciesMeta: Record<string, { optional?: boolean }>;
};

test('importing mcptrail (the built package, as installed) loads @opentelemetry/api and nothing else from node_modules', () => {
  const script = `
    await import('@modelcontextprotocol/sdk/server/mcp.js');
    const { createRequire } = await import('node:module');
    const cache = createRequire(import.meta.url).cache;
    const before = new Set(Object.keys(cache));
    const lib = await import('mcptrail');
    if (typeof lib.instrument !== 'function') throw new Error('no instrument export');
    const loaded = Object.keys(cache).filter((k) => !before.has(k) && k.includes('/node_modules/') && !k.includes('/packages/mcptrail/'));
    const names = loaded.map((k) => { const p = k.split('/node_modules/').pop().split('/'); return p[0].startsWith('@') ? p[0] + '/' + p[1] : p[0]; });
    process.stdout.write(JSON.stringify([...new Set(names)].sort()));`;
  const loaded = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT }).toString()) as string[];
  assert.deepEqual(loaded, ['@opentelemetry/api']);
});

test('the manifest: MCP SDK lines, fastify and sdk-node are optional peers; @opentelemetry/api a peer; no collector-side package', () => {
  for (const dep of ['@modelcontextprotocol/sdk', '@modelcontextprotocol/server', 'fastify', '@opentelemetry/sdk-node', '@opentelemetry/api']) {
    assert.equal(manifest.dependencies[dep], undefined, `${dep} is not a dependency`);
    assert.ok(manifest.peerDependencies[dep], `${dep} is a peer`);
  }
  for (const optional of ['@modelcontextprotocol/sdk', '@modelcontextprotocol/server', 'fastify', '@opentelemetry/sdk-node']) {
    assert.equal(manifest.peerDependenciesMeta[optional]?.optional, true, `${optional} is optional`);
  }
  assert.equal(manifest.peerDependenciesMeta['@opentelemetry/api']?.optional, undefined, 'the API is required');
  for (const range of Object.values(manifest.peerDependencies)) assert.match(range, /^[\^>~]/, `peer ranges, not pins: ${range}`);
  for (const heavy of ['chdb', '@clickhouse/client', '@grafana/grafana-foundation-sdk']) assert.equal(manifest.dependencies[heavy], undefined);
  // The OpenTelemetry SDK packages pin one another exactly: mcptrail pins the same versions, or npm nests a second copy of each.
  for (const [dep, version] of Object.entries(manifest.dependencies)) {
    if (dep.startsWith('@opentelemetry/') && dep !== '@opentelemetry/semantic-conventions') assert.match(version, /^\d/, `${dep} pinned like its siblings: ${version}`);
  }
});
