/**
 * The one place the audit server leans on how the library uses an
 * Instrumentation (test/audit-mcp.test.ts fails loudly if that changes: the
 * audit spans must be stored under `mcptrail-audit`).
 *
 * The pipeline takes its tracer and metrics from the Instrumentation the
 * plugin is given (its public `instrumentation` option); by default both are
 * the process's global OpenTelemetry providers. In the collector there may be
 * none (no spans at all) or another's (the demo's NodeSDK in `mcptrail up
 * --demo`, which would label the audit calls `crm-mcp`). So the compiled
 * instrumentation is used with two members replaced:
 *  - `tracer`: the audit server's own provider, whose spans go into the store;
 *  - `metrics`: none. The duration histogram would otherwise land on whatever
 *    global MeterProvider runs, under its service; the audit calls' durations
 *    are in their records (`duration_ms`).
 * Everything else (policies, sink, limits) is the library's, from the options.
 */
import type { Tracer } from '@opentelemetry/api';
import { createInstrumentation, type Instrumentation, type InstrumentOptions } from 'mcptrail/instrument';

const NO_METRICS: Instrumentation['metrics'] = { recordCall() {} };

export function auditInstrumentation(options: InstrumentOptions, tracer: Tracer): Instrumentation {
  const compiled = createInstrumentation(options);
  return Object.create(compiled, {
    tracer: { value: tracer, enumerable: true },
    metrics: { value: NO_METRICS, enumerable: true },
  }) as Instrumentation;
}
