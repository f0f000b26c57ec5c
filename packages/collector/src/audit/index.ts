/** Audit queries shared by the collector's API and the CLI: all parameterised, all read-only. */
export { listCalls, callsForTrace } from './calls.js';
export { getTrace, TENANT_SPAN_ATTRIBUTE, type TraceView, type SpanView, type SpanEventView, type TraceReadOptions } from './traces.js';
export { parseSince, SINCE_PATTERN, MAX_SINCE_SECONDS } from './since.js';
export {
  CallFilterSchema,
  describeIssues,
  isTraceId,
  TRACE_ID_PATTERN,
  CURSOR_PATTERN,
  cursorOf,
  DEFAULT_LIMIT,
  DEFAULT_SINCE,
  MAX_LIMIT,
  type CallFilter,
} from './filters.js';
