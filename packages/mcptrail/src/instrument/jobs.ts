/**
 * Tools that need more than ~30 s, exposed as jobs: `start_<name>` answers at
 * once with a job id and `get_job_status` reports progress and the result.
 * On a v2 server, a client that declares the MCP tasks extension (2026-07-28)
 * gets the same job as a task instead (tasks.ts): `tasks/get`,
 * `tasks/update`, `tasks/cancel`.
 *
 * The job runs under its own CallContext (same tenant, agent and trace; its
 * own budget and counters), so the upstream client inside it keeps using the
 * tenant's credentials and breakers, with timeouts from the job's budget
 * instead of the finished start call's. Its work is audited: a span
 * `task <tool>` (a child of the start call's span, open while the job runs,
 * so the job's upstream CLIENT spans have an open parent) and, when the job
 * ends, one record of kind `task` with the job's upstream calls, retries,
 * refreshes and duration, its outcome (`ok`, `tool_error`, `system_error`,
 * `deadline_exceeded` or `cancelled`), and the `task_id` the start call's
 * record carries too.
 *
 * Jobs live in the process that started them (runtime/jobs): behind a load
 * balancer, route get_job_status (and tasks/*: their `Mcp-Name` header is the
 * task id) to the same instance, or keep jobs short.
 */
import { randomUUID } from 'node:crypto';
import { context, SpanKind, trace, type Span } from '@opentelemetry/api';
import { z } from 'zod';
import { currentCall, freshCounters, runWithCall, type CallContext } from '../context/index.js';
import { errorClass, errorCode, errorFields, type Outcome } from '../record/index.js';
import { JobCancelledError, JobLimitError, type JobStatus, type Jobs } from '../runtime/index.js';
import { callScopeOf, type CallScope } from './call-scope.js';
import type { AnyMcpServer } from './instrument.js';
import { countAuditFailure } from './metrics.js';
import type { ToolPolicy } from './policy.js';
import { buildRecord } from './record-builder.js';
import { isErrorResult } from './safe-result.js';
import { sdkLineOf } from './sdk-internals.js';
import { declaresTasks, installTasksExtension, taskOf } from './tasks.js';
import { failToolResult } from './tool-span.js';

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

/** Registers `start_<name>` and (once per server) `get_job_status`; on a v2 server, the tasks extension too. */
export function registerJobTool<A>(server: AnyMcpServer, jobs: Jobs, spec: JobToolSpec<A>): void {
  const register = (server as unknown as { registerTool: Register }).registerTool.bind(server);
  const registered = (server as unknown as { _registeredTools?: Record<string, unknown> })._registeredTools ?? {};
  const tool = `start_${spec.name}`;
  const tasks = sdkLineOf(server) === 'v2';
  if (tasks) installTasksExtension(server, jobs, json);

  register(
    tool,
    { title: spec.title, description: `${spec.description} Starts a job and answers at once with its job_id; poll ${JOB_STATUS_TOOL} (or, with the MCP tasks extension, tasks/get).`, inputSchema: spec.inputSchema },
    async (args: A) => {
      const call = currentCall();
      if (!call) throw new Error('job tools run inside an instrumented call');
      const scope = callScopeOf(call);
      const budgetMs = spec.budgetMs ?? 15 * 60_000;
      let job: ReturnType<typeof taskRecorder> | undefined;
      try {
        const { job_id } = jobs.start(
          call.tenantId,
          (signal) => job!.run(signal, () => spec.run(args, { signal, tenantId: call.tenantId })),
          { owner: call.agentId, onSettled: (status, err) => job!.end(status, err) },
        );
        job = taskRecorder(call, scope, tool, job_id, budgetMs);
        scope?.span.setAttribute('mcptrail.task_id', job_id);
        scope?.setTaskId(job_id);
        if (tasks && scope?.info.era === 'modern' && declaresTasks(scope.info.clientCapabilities)) {
          // A task handle instead of the tool's result (resultType `task`), durably readable before it is returned.
          return { resultType: 'task', ...taskOf(job_id, jobs.status(call.tenantId, job_id)!, jobs.lifetimeMs, json) };
        }
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
      description: 'State of a job started by a start_* tool: running, succeeded (with its result), failed or cancelled.',
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

/**
 * The audit of one job: its span (opened when the job starts, under the
 * start call's span) and its end record. `run` is called by Jobs before the
 * start call returns (the job's first microtask), `end` once it settles.
 */
function taskRecorder(call: CallContext, scope: CallScope | undefined, tool: string, taskId: string, budgetMs: number) {
  const callId = randomUUID();
  const startedAt = Date.now();
  const t0 = performance.now();
  let span: Span | undefined;
  let jobCall: CallContext | undefined;
  return {
    run(signal: AbortSignal, work: () => Promise<unknown>): Promise<unknown> {
      const parent = scope ? trace.setSpan(context.active(), scope.span) : context.active();
      span = scope?.tracer.startSpan(
        `task ${tool}`,
        {
          kind: SpanKind.INTERNAL,
          attributes: {
            'gen_ai.tool.name': tool,
            'mcptrail.task_id': taskId,
            'mcptrail.call_id': callId,
            'mcptrail.tenant_id': call.tenantId,
            'mcptrail.agent_id': call.agentId,
          },
        },
        parent,
      );
      const sc = span?.spanContext();
      // Same caller and trace as the start call; its own id, span, clock, budget and counters.
      jobCall = {
        ...call,
        callId,
        spanId: sc?.spanId ?? call.spanId,
        traceId: sc?.traceId ?? call.traceId,
        startedAt,
        budgetMs,
        signal,
        ...freshCounters(),
      };
      const active = span ? trace.setSpan(parent, span) : parent;
      return context.with(active, () => runWithCall(jobCall!, work));
    },
    end(status: JobStatus, err: unknown): void {
      if (!scope || !jobCall) return;
      try {
        const { outcome, cls, code } = taskOutcome(status, err);
        if (outcome !== 'ok') failToolResult(span!, cls, code, outcome);
        span?.end();
        scope.sink.emit(
          buildRecord(jobCall, {
            service: scope.service,
            toolVersion: scope.policy.version ?? '',
            toolDeprecated: scope.policy.deprecated ?? false,
            scopeRequired: scope.policy.scope ?? '',
            outcome,
            errorClass: cls,
            errorCode: code,
            durationMs: performance.now() - t0,
            argsSummary: '{}',
            rateLimitBudget: '',
            idempotencyKey: '',
            idempotentReplay: false,
            protocolVersion: scope.info.protocolVersion,
            clientName: scope.info.clientName,
            clientVersion: scope.info.clientVersion,
            mcpMethod: 'tools/call',
            recordKind: 'task',
            taskId,
          }),
        );
      } catch (e) {
        // Auditing never breaks the work it audits; a lost record is counted and logged (class and code).
        countAuditFailure();
        scope.logger?.error(errorFields(e), 'audit_record_failed');
      }
    },
  };
}

function taskOutcome(status: JobStatus, err: unknown): { outcome: Outcome; cls: string; code: string } {
  switch (status.state) {
    case 'succeeded':
      return isErrorResult(status.result) ? { outcome: 'tool_error', cls: '', code: '' } : { outcome: 'ok', cls: '', code: '' };
    case 'cancelled':
      return { outcome: 'cancelled', cls: 'JobCancelledError', code: new JobCancelledError().code };
    default: {
      const code = errorCode(err);
      return { outcome: code === 'job_timeout' ? 'deadline_exceeded' : 'system_error', cls: errorClass(err), code };
    }
  }
}
