/**
 * The MCP SDK private members mcptrail reads (instrument/sdk-internals.ts),
 * held to each SDK line installed. When an SDK release moves one, this file
 * fails naming it: update sdk-internals.ts (and the peer range) before
 * shipping, rather than finding tools silently unrecorded in production.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { McpServer as McpServerV1 } from '@modelcontextprotocol/sdk/server/mcp.js';
import { McpServer as McpServerV2 } from '@modelcontextprotocol/server';
import { z } from 'zod';
import { instrument, SdkShapeError } from '../packages/mcptrail/src/instrument/index.js';
import { clientName, requestHandlers, sdkLineOf, serverName, toolRegistry } from '../packages/mcptrail/src/instrument/sdk-internals.js';
import { memorySink } from './support/mcp-harness.js';

const lines = {
  v1: () => {
    const s = new McpServerV1({ name: 'internals-v1', version: '1.0.0' });
    s.registerTool('echo', { inputSchema: { text: z.string() } }, async ({ text }) => ({ content: [{ type: 'text' as const, text }] }));
    return s;
  },
  v2: () => {
    const s = new McpServerV2({ name: 'internals-v2', version: '1.0.0' });
    s.registerTool('echo', { inputSchema: z.object({ text: z.string() }) }, async ({ text }) => ({ content: [{ type: 'text' as const, text }] }));
    return s;
  },
};

for (const [line, make] of Object.entries(lines)) {
  describe(`SDK ${line} internals mcptrail relies on`, () => {
    test('McpServer._registeredTools: registered tools by name, with handler, enabled and update()', () => {
      const registry = toolRegistry(make());
      assert.deepEqual(Object.keys(registry), ['echo'], '_registeredTools keys are the tool names');
      const tool = registry.echo!;
      assert.equal(typeof tool.handler, 'function', 'RegisteredTool.handler holds the callback');
      assert.equal(tool.enabled, true, 'RegisteredTool.enabled');
      assert.equal(typeof tool.update, 'function', 'RegisteredTool.update');
      const replacement = async () => ({ content: [] });
      tool.update({ callback: replacement });
      assert.equal(tool.handler, replacement, 'update({ callback }) replaces RegisteredTool.handler');
    });

    test('McpServer.server._requestHandlers: a Map by method holding tools/call once a tool exists', () => {
      const found = requestHandlers(make());
      assert.ok(found, '_requestHandlers is a Map and setRequestHandler a function');
      assert.equal(typeof found.handlers.get('tools/call'), 'function', 'tools/call is installed by the first registerTool');
    });

    test('McpServer.server._serverInfo: the name the server was built with', () => {
      assert.equal(serverName(make()), `internals-${line}`);
    });

    test('public seams: getClientVersion() and the v2-only toolInputSchemaJson()', () => {
      assert.equal(clientName(make()), undefined, 'no client yet');
      assert.equal(sdkLineOf(make()), line);
    });

    test('instrument() wraps what the registry holds', () => {
      const server = make();
      instrument(server, { service: 's', sink: memorySink() });
      assert.equal(typeof (toolRegistry(server).echo!.handler as Record<symbol, unknown>)[Symbol.for('mcptrail.originalHandler')], 'function');
    });
  });
}

test('a server without the registry is refused with a message naming the member', () => {
  assert.throws(() => instrument({ registerTool() {}, connect: async () => {}, close: async () => {}, server: {} }, { service: 's', sink: memorySink() }), (err: unknown) => {
    assert.ok(err instanceof SdkShapeError);
    assert.match((err as Error).message, /_registeredTools/);
    return true;
  });
});
