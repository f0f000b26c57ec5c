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

const scopes = new WeakMap<CallContext, CallScope>();

export function setCallScope(ctx: CallContext, scope: CallScope): void {
  scopes.set(ctx, scope);
}

export function callScopeOf(ctx: CallContext | undefined): CallScope | undefined {
  return ctx ? scopes.get(ctx) : undefined;
}
