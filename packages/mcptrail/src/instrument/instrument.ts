/**
 * `instrument(server, options)`: one call puts every tool of an McpServer
 * (SDK v1 `@modelcontextprotocol/sdk` or v2 `@modelcontextprotocol/server`)
 * behind the call pipeline — tools registered before the call, and after it.
 *
 * Neither SDK has tool middleware, so we wrap handlers: existing ones through
 * each RegisteredTool's public `update({ callback })` (v2 then rebuilds its
 * executor), new ones by patching `registerTool` / legacy `tool()`. Calls the
 * SDK refuses before a handler runs are recorded by the tools/call guard
 * (sdk-rejections.ts).
 */
import { trace } from '@opentelemetry/api';
import type { McpServer as McpServerV1 } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { McpServer as McpServerV2 } from '@modelcontextprotocol/server';
import type { Logger, RecordSink } from '../record/index.js';
import type { ConcurrencyCap, IdempotencyStore, RateLimits } from '../runtime/index.js';
import { ORIGINAL_HANDLER, isWrapped, wrapToolHandler, type PipelineDeps } from './pipeline.js';
import { resolvePolicy, type ToolPolicy } from './policy.js';
import { guardToolsCall } from './sdk-rejections.js';

export type AnyMcpServer = McpServerV1 | McpServerV2;

export interface InstrumentOptions {
  /** Service name in records. */
  service: string;
  sink: RecordSink;
  tools?: Record<string, ToolPolicy>;
  defaults?: ToolPolicy;
  tracerName?: string;
  /**
   * Budgets checked inside the pipeline, answered as a tool result
   * (`rate_limited: true`, `retry_after_seconds`, `budget`): typically the
   * per-tool and per-tenant ones. The per-agent budget belongs at the HTTP
   * edge (createMcpHttpApp `limits`, answered 429 + Retry-After).
   * Create it once, outside a per-request server factory.
   */
  limits?: RateLimits;
  /** In-flight calls per tenant (MemoryConcurrencyCap / RedisConcurrencyCap). Created once. */
  concurrency?: ConcurrencyCap;
  /** Deduplicates write tools (policy `kind: 'write'` or `idempotent: true`). Created once. */
  idempotency?: IdempotencyStore;
  /** Operational lines (a deprecated tool's warn line). */
  logger?: Logger;
}

type Fn = (this: unknown, ...args: unknown[]) => unknown;

interface RegisteredToolLike {
  handler?: unknown;
  update(updates: Record<string, unknown>): void;
}

interface ServerInternals {
  _registeredTools?: Record<string, RegisteredToolLike>;
  registerTool?: Fn;
  tool?: Fn;
}

const instrumented = new WeakSet<object>();
const patchedTools = new WeakSet<object>();

export function instrument<S extends AnyMcpServer>(server: S, options: InstrumentOptions): S {
  if (instrumented.has(server)) return server;
  const internals = server as unknown as ServerInternals;
  const registry = internals._registeredTools;
  if (!registry || typeof internals.registerTool !== 'function') {
    throw new TypeError('instrument() expects an McpServer from @modelcontextprotocol/sdk (v1) or @modelcontextprotocol/server (v2)');
  }

  const deps: PipelineDeps = {
    service: options.service,
    sink: options.sink,
    tracer: trace.getTracer(options.tracerName ?? 'mcptrail'),
    limits: options.limits,
    concurrency: options.concurrency,
    idempotency: options.idempotency,
    logger: options.logger,
  };
  const wrap = (name: string, handler: unknown): unknown =>
    typeof handler === 'function'
      ? wrapToolHandler(name, handler as Fn, resolvePolicy(name, options.tools, options.defaults), deps)
      : handler; // task handlers ({ createTask, ... }) are left alone for now

  for (const [name, tool] of Object.entries(registry)) {
    patchTool(name, tool, wrap);
    if (typeof tool.handler === 'function' && !isWrapped(tool.handler)) tool.update({ callback: wrap(name, tool.handler) });
  }

  const registerTool = internals.registerTool;
  internals.registerTool = function (this: unknown, name: unknown, config: unknown, cb: unknown) {
    const tool = registerTool.call(this, name, config, wrap(String(name), cb)) as RegisteredToolLike;
    patchTool(String(name), tool, wrap);
    return tool;
  };

  const legacyTool = internals.tool;
  if (typeof legacyTool === 'function') {
    internals.tool = function (this: unknown, name: unknown, ...rest: unknown[]) {
      const last = rest.length - 1;
      if (last >= 0) rest[last] = wrap(String(name), rest[last]);
      const tool = legacyTool.call(this, name, ...rest) as RegisteredToolLike;
      patchTool(String(name), tool, wrap);
      return tool;
    };
  }

  // Calls the SDK refuses before any handler runs (unknown tool, invalid arguments) get their record here.
  guardToolsCall(server, registry as Record<string, unknown>, {
    service: options.service,
    sink: options.sink,
    tracer: deps.tracer,
    policyOf: (name) => resolvePolicy(name, options.tools, options.defaults),
  });

  instrumented.add(server);
  return server;
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
