/**
 * Tools that need more than ~30 s, exposed as jobs: `start_<name>` answers at
 * once with a job id and `get_job_status` reports progress and the result.
 * The job runs under its own CallContext (same tenant, agent and trace; its
 * own budget), so the upstream client inside it keeps using the tenant's
 * credentials and breakers, with timeouts from the job's budget instead of the
 * finished start call's.
 *
 * Jobs live in the process that started them (runtime/jobs): behind a load
 * balancer, route get_job_status to the same instance or keep jobs short.
 */
import { z } from 'zod';
import { currentCall, freshCounters, runWithCall, type CallContext } from '../context/index.js';
import { JobLimitError, type Jobs } from '../runtime/index.js';
import type { AnyMcpServer } from './instrument.js';
import type { ToolPolicy } from './policy.js';

export const JOB_STATUS_TOOL = 'get_job_status';

export interface JobToolSpec<A> {
  /** Registered as `start_<name>`. */
  name: string;
  title?: string;
  description: string;
  /** A zod object schema (accepted by both SDK lines). */
  inputSchema: z.ZodType<A>;
  /** The job's own budget for upstream timeouts. Default 15 min. */
  budgetMs?: number;
  run(args: A, job: { signal: AbortSignal; tenantId: string }): Promise<unknown>;
}

/** Policies for the two tools, to merge into instrument()'s `tools` (scope = the job's scope). */
export function jobToolPolicies(name: string, policy: ToolPolicy): Record<string, ToolPolicy> {
  return { [`start_${name}`]: { kind: 'write', idempotent: false, ...policy }, [JOB_STATUS_TOOL]: { kind: 'read', budgetMs: 5_000, version: '1' } };
}

type Register = (name: string, config: Record<string, unknown>, cb: (...args: any[]) => unknown) => unknown;

const json = (value: unknown, isError = false) => ({
  content: [{ type: 'text' as const, text: JSON.stringify(value) }],
  structuredContent: value as Record<string, unknown>,
  ...(isError ? { isError: true } : {}),
});

/** Registers `start_<name>` and (once per server) `get_job_status`. */
export function registerJobTool<A>(server: AnyMcpServer, jobs: Jobs, spec: JobToolSpec<A>): void {
  const register = (server as unknown as { registerTool: Register }).registerTool.bind(server);
  const registered = (server as unknown as { _registeredTools?: Record<string, unknown> })._registeredTools ?? {};

  register(
    `start_${spec.name}`,
    { title: spec.title, description: `${spec.description} Starts a job and answers at once with its job_id; poll ${JOB_STATUS_TOOL}.`, inputSchema: spec.inputSchema },
    async (args: A) => {
      const call = currentCall();
      if (!call) throw new Error('job tools run inside an instrumented call');
      try {
        const jobCall = jobContext(call, spec.budgetMs ?? 15 * 60_000);
        const { job_id } = jobs.start(call.tenantId, (signal) =>
          runWithCall({ ...jobCall, signal }, () => spec.run(args, { signal, tenantId: call.tenantId })),
        );
        return json({ job_id, state: 'running', poll_with: JOB_STATUS_TOOL });
      } catch (err) {
        if (err instanceof JobLimitError) return json({ error: err.code, message: err.message, retryable: true }, true);
        throw err;
      }
    },
  );

  if (JOB_STATUS_TOOL in registered) return;
  register(
    JOB_STATUS_TOOL,
    {
      title: 'Job status',
      description: 'State of a job started by a start_* tool: running, succeeded (with its result) or failed.',
      inputSchema: z.object({ job_id: z.string().min(1).max(64) }),
      annotations: { readOnlyHint: true },
    },
    async ({ job_id }: { job_id: string }) => {
      const status = jobs.status(currentCall()?.tenantId ?? '', job_id);
      if (!status) return json({ error: 'unknown_job', message: 'No such job for this tenant (or it expired).' }, true);
      return json({ job_id, ...status });
    },
  );
}

/** A fresh context for the job: same caller and trace, its own clock and counters. */
function jobContext(call: CallContext, budgetMs: number): CallContext {
  return {
    ...call,
    startedAt: Date.now(),
    budgetMs,
    ...freshCounters(),
  };
}
