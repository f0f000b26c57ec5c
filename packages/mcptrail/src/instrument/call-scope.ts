/**
 * What a running call's instrumentation knows beyond its CallContext, for
 * the work it hands on: a task (or job) started by the call is recorded when
 * it ends, with the same sink, service and policy, in the same trace, and
 * answered in the call's protocol era. Kept off the public CallContext type;
 * the pipeline sets it for each call, jobs.ts reads it.
 */
import type { Span, Tracer } from '@opentelemetry/api';
import type { CallContext } from '../context/index.js';
import type { Logger, RecordSink } from '../record/index.js';
import type { ToolPolicy } from './policy.js';
import type { ToolRequestInfo } from './request-info.js';

export interface CallScope {
  service: string;
  sink: RecordSink;
  tracer: Tracer;
  logger?: Logger;
  policy: ToolPolicy;
  /** The call's SERVER span (ended when the call returns; a task's span is its child). */
  span: Span;
  info: Pick<ToolRequestInfo, 'protocolVersion' | 'era' | 'clientName' | 'clientVersion' | 'clientCapabilities'>;
  logicalCallId: string;
  /** Links the call's record to the task (or job) it started. */
  setTaskId(taskId: string): void;
}

// A symbol-keyed property of the call's context rather than a WeakMap entry: set for every call, it is
// cheaper (no ephemeron per call for the collector to trace), and `{ ...ctx }` copies carry it along.
const SCOPE = Symbol('mcptrail.callScope');

export function setCallScope(ctx: CallContext, scope: CallScope): void {
  (ctx as CallContext & { [SCOPE]?: CallScope })[SCOPE] = scope;
}

export function callScopeOf(ctx: CallContext | undefined): CallScope | undefined {
  return (ctx as (CallContext & { [SCOPE]?: CallScope }) | undefined)?.[SCOPE];
}
