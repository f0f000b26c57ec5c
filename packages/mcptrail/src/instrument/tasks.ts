/**
 * The MCP tasks extension (`io.modelcontextprotocol/tasks`, SEP-2663, for
 * MCP 2026-07-28) over mcptrail's jobs, on a v2 McpServer: a `start_*` call
 * from a client that declares the extension is answered with a task
 * (`resultType: "task"`), which the client polls with `tasks/get`
 * (`working`, then `completed` with the tool result, or `cancelled`), may
 * stop with `tasks/cancel`, and `tasks/update` (inputs; these jobs ask for
 * none, so it acknowledges and changes nothing). Neither SDK ships the
 * server side of the extension: the methods are registered as the v2 SDK's
 * extension methods, with the wire shapes of the extension's specification.
 * A task is bound to its caller (tenant and agent): another caller's task id
 * reads as unknown. Clients without the extension keep the job answer
 * (`job_id`, polled with `get_job_status`), as every legacy client does.
 *
 * Every task's end (completion, failure or cancellation) is audited by
 * jobs.ts: one record of kind `task`, linked to its starting call by
 * `task_id` and the trace.
 */
import { z } from 'zod';
import type { JobStatus, Jobs } from '../runtime/index.js';
import { instrumentationFor } from './instrument.js';
import { hostPrincipal, identityResolver, type Identify } from './identity.js';
import { readRequestInfo } from './request-info.js';
import { clientName, requestHandlers } from './sdk-internals.js';

export const TASKS_EXTENSION = 'io.modelcontextprotocol/tasks';

/** Suggested polling interval of a working task. */
const POLL_INTERVAL_MS = 1_000;

const INVALID_PARAMS = -32602;
const MISSING_REQUIRED_CLIENT_CAPABILITY = -32021;

/** Whether the request's declared capabilities include the tasks extension. */
export function declaresTasks(capabilities: Record<string, unknown> | undefined): boolean {
  const extensions = capabilities?.extensions;
  return typeof extensions === 'object' && extensions !== null && TASKS_EXTENSION in extensions;
}

/** The task's view of a job, the extension's DetailedTask (result inlined once it completed). */
export function taskOf(jobId: string, status: JobStatus, ttlMs: number, result: (value: unknown, isError?: boolean) => unknown): Record<string, unknown> {
  const base = {
    taskId: jobId,
    createdAt: status.startedAt,
    lastUpdatedAt: status.finishedAt ?? status.startedAt,
    ttlMs,
  };
  switch (status.state) {
    case 'running':
      return { ...base, status: 'working', pollIntervalMs: POLL_INTERVAL_MS };
    case 'succeeded':
      return { ...base, status: 'completed', result: result(status.result) };
    case 'failed':
      // A job failure is the tool's failure, not a JSON-RPC error: `completed` with an isError result (as the spec asks).
      return { ...base, status: 'completed', statusMessage: status.error?.message, result: result(status.error, true) };
    case 'cancelled':
      return { ...base, status: 'cancelled', statusMessage: 'The task was cancelled.' };
  }
}

const TaskParams = z.object({ taskId: z.string().min(1).max(128) }).passthrough();
const UpdateParams = z.object({ taskId: z.string().min(1).max(128), inputResponses: z.record(z.string(), z.unknown()) }).passthrough();

const installed = new WeakSet<object>();

/**
 * Adds the extension to a v2 McpServer (once): its capability in
 * `server/discover`, and the three methods. Call before the server connects
 * (capabilities are fixed then).
 */
export function installTasksExtension(server: object, jobs: Jobs, result: (value: unknown, isError?: boolean) => unknown): void {
  const found = requestHandlers(server);
  if (!found || installed.has(found.protocol)) return;
  installed.add(found.protocol);
  const protocol = found.protocol as unknown as {
    registerCapabilities(c: Record<string, unknown>): void;
    setRequestHandler(method: string, schemas: { params: z.ZodType }, handler: (params: any, ctx: unknown) => Promise<unknown>): void;
  };
  protocol.registerCapabilities({ extensions: { [TASKS_EXTENSION]: {} } });

  const identify = (): Identify => {
    const instr = instrumentationFor(server);
    return instr ? identityResolver(instr.options, () => clientName(server)) : hostPrincipal;
  };
  /** The caller's job, or the JSON-RPC error the extension specifies. */
  const callerOf = (ctx: unknown) => {
    const info = readRequestInfo(ctx, identify());
    if (!declaresTasks(info.clientCapabilities)) {
      throw rpcError(MISSING_REQUIRED_CLIENT_CAPABILITY, 'Missing required client capability', { requiredCapabilities: { extensions: { [TASKS_EXTENSION]: {} } } });
    }
    return { tenantId: info.principal?.tenantId ?? '', owner: info.principal?.agentId ?? '' };
  };
  const unknownTask = () => rpcError(INVALID_PARAMS, 'Failed to retrieve task: Task not found');

  protocol.setRequestHandler('tasks/get', { params: TaskParams }, async (params: { taskId: string }, ctx) => {
    const caller = callerOf(ctx);
    const status = jobs.status(caller.tenantId, params.taskId, caller.owner);
    if (!status) throw unknownTask();
    return taskOf(params.taskId, status, jobs.lifetimeMs, result);
  });
  protocol.setRequestHandler('tasks/update', { params: UpdateParams }, async (params: { taskId: string }, ctx) => {
    const caller = callerOf(ctx);
    // These tasks never ask for input: responses to keys that are not outstanding are ignored (the spec's SHOULD).
    if (!jobs.status(caller.tenantId, params.taskId, caller.owner)) throw unknownTask();
    return {};
  });
  protocol.setRequestHandler('tasks/cancel', { params: TaskParams }, async (params: { taskId: string }, ctx) => {
    const caller = callerOf(ctx);
    if (!jobs.cancel(caller.tenantId, params.taskId, caller.owner)) throw unknownTask();
    return {};
  });
}

function rpcError(code: number, message: string, data?: unknown): Error {
  return Object.assign(new Error(message), { code, ...(data !== undefined ? { data } : {}) });
}
