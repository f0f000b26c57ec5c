/**
 * `instrument(server, options?)`: one call puts every tool of an McpServer
 * (SDK v1 `@modelcontextprotocol/sdk` or v2 `@modelcontextprotocol/server`)
 * behind the call pipeline — tools registered before the call, and after it —
 * in any host: mcptrail's fastify plugin, the SDK's Streamable HTTP
 * transport on node:http or express, `createMcpHandler`, stdio.
 *
 * Neither SDK has tool middleware, so we wrap handlers: existing ones through
 * each RegisteredTool's public `update({ callback })` (v2 then rebuilds its
 * executor), new ones by patching the public `registerTool` / legacy `tool()`.
 * Calls the SDK refuses before a handler runs are recorded by the tools/call
 * guard (sdk-rejections.ts). The private members read are in sdk-internals.ts.
 */
import { ORIGINAL_HANDLER, isWrapped, wrapToolHandler, type PipelineDeps } from './pipeline.js';
import { identityResolver } from './identity.js';
import { instrumentationOf, type InstrumentOptions, type Instrumentation } from './instrumentation.js';
import { hookRequestHandlers } from './handler-hooks.js';
import { toolsCallGuard } from './sdk-rejections.js';
import { toolsListFilter } from './tool-list.js';
import { clientName, declaredCapabilities, declaredClient, toolRegistry, type RegisteredToolLike } from './sdk-internals.js';

export type { InstrumentOptions, Instrumentation } from './instrumentation.js';

/**
 * An McpServer of either SDK line, described by the public members mcptrail
 * uses rather than by the SDK's class (whose private members would make
 * another 1.x patch release a type error).
 */
export interface McpServerLike {
  registerTool(...args: any[]): unknown;
  connect(transport: any): Promise<void>;
  close(): Promise<void>;
  readonly server: object;
}

/** @deprecated use McpServerLike */
export type AnyMcpServer = McpServerLike;

type Fn = (this: unknown, ...args: unknown[]) => unknown;

interface PatchableServer {
  registerTool: Fn;
  tool?: Fn;
}

const instrumented = new WeakMap<object, Instrumentation>();
const patchedTools = new WeakSet<object>();

export function instrument<S extends McpServerLike>(server: S, options?: InstrumentOptions | Instrumentation): S {
  if (instrumented.has(server)) return server;
  const registry = toolRegistry(server);
  const methods = server as unknown as PatchableServer;
  if (typeof methods.registerTool !== 'function') throw new TypeError('instrument() expects an McpServer (it has no registerTool)');

  const instr = instrumentationOf(options);
  const opts = instr.options;
  const state = instr.state(server);
  let declared: ReturnType<typeof declaredClient>;
  const deps: PipelineDeps = {
    service: instr.service(server),
    sink: instr.sink(server),
    tracer: instr.tracer,
    limits: state.limits,
    concurrency: state.concurrency,
    idempotency: state.idempotency,
    logger: instr.logger(server),
    identify: identityResolver(opts, () => clientName(server)),
    metrics: instr.metrics,
    // What a client declared in initialize does not change on its connection: read once it is there.
    declaredClient: () => (declared ??= declaredClient(server)),
    declaredCapabilities: () => declaredCapabilities(server),
    rounds: instr.rounds,
  };
  const wrap = (name: string, handler: unknown): unknown =>
    typeof handler === 'function' ? wrapToolHandler(name, handler as Fn, instr.policyOf(name), deps) : handler; // task handlers ({ createTask, ... }) are left alone for now

  for (const [name, tool] of Object.entries(registry)) {
    patchTool(name, tool, wrap);
    if (typeof tool.handler === 'function' && !isWrapped(tool.handler)) tool.update({ callback: wrap(name, tool.handler) });
  }

  const registerTool = methods.registerTool;
  methods.registerTool = function (this: unknown, name: unknown, config: unknown, cb: unknown) {
    const tool = registerTool.call(this, name, config, wrap(String(name), cb)) as RegisteredToolLike;
    patchTool(String(name), tool, wrap);
    return tool;
  };

  const legacyTool = methods.tool;
  if (typeof legacyTool === 'function') {
    methods.tool = function (this: unknown, name: unknown, ...rest: unknown[]) {
      const last = rest.length - 1;
      if (last >= 0) rest[last] = wrap(String(name), rest[last]);
      const tool = legacyTool.call(this, name, ...rest) as RegisteredToolLike;
      patchTool(String(name), tool, wrap);
      return tool;
    };
  }

  // Calls the SDK refuses before any handler runs (unknown tool, invalid arguments) get their record here,
  // and each caller lists only the tools its scopes allow (tool-list.ts).
  const guard = toolsCallGuard(registry as Record<string, unknown>, {
    service: deps.service,
    sink: deps.sink,
    tracer: deps.tracer,
    policyOf: (name) => instr.policyOf(name),
    identify: deps.identify,
    declaredClient: deps.declaredClient,
    metrics: deps.metrics,
    logger: deps.logger,
  });
  hookRequestHandlers(server, [guard, toolsListFilter({ policyOf: instr.policyOf, identify: deps.identify })]);

  instrumented.set(server, instr);
  return server;
}

/** The instrumentation a server was instrumented with, if any. */
export function instrumentationFor(server: object): Instrumentation | undefined {
  return instrumented.get(server);
}

/**
 * Keeps later `update()`s wrapped: a new callback is wrapped, and a rename
 * re-wraps the author's handler so spans and records carry the new name.
 */
function patchTool(name: string, tool: RegisteredToolLike, wrap: (name: string, handler: unknown) => unknown): void {
  if (!tool || patchedTools.has(tool)) return;
  patchedTools.add(tool);
  let currentName = name;
  const update = tool.update.bind(tool);
  tool.update = (updates) => {
    const next = { ...updates };
    if (typeof next.name === 'string' && next.name !== currentName) currentName = next.name;
    if (next.callback !== undefined) {
      const original = isWrapped(next.callback) ? next.callback[ORIGINAL_HANDLER] : next.callback;
      next.callback = wrap(currentName, original);
    } else if (typeof updates.name === 'string' && isWrapped(tool.handler)) {
      next.callback = wrap(currentName, tool.handler[ORIGINAL_HANDLER]);
    }
    update(next);
  };
}
