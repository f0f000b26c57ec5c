/**
 * Surfacing a limits-store outage: when Redis is unreachable, RateLimits and
 * RedisConcurrencyCap decide per instance (insurance limiter) and report the
 * transition. This turns those reports into a log line (error class only,
 * never the Redis URL) and counters on the OpenTelemetry metrics API (a no-op
 * unless the host installs a MeterProvider).
 */
import { metrics } from '@opentelemetry/api';
import type { Logger } from '../record/index.js';
import type { LimitsEvent } from '../runtime/index.js';

const meter = metrics.getMeter('mcptrail');
const transitions = meter.createCounter('mcptrail.limits.store_transitions', {
  description: 'Limits store outages and recoveries (insurance limiter taking over or handing back)',
});
const degradedDecisions = meter.createCounter('mcptrail.limits.degraded_decisions', {
  description: 'Rate-limit decisions taken per instance while the shared store was unreachable',
});

/** Pass as `onEvent` to RateLimits / RedisConcurrencyCap. */
export function limitsEventLogger(logger: Logger | undefined): (event: LimitsEvent) => void {
  return (event) => {
    transitions.add(1, { type: event.type, store: event.store });
    if (event.type === 'degraded') {
      logger?.warn({ store: event.store, error_class: event.errorClass }, 'limits_store_degraded');
    } else {
      logger?.info({ store: event.store, degraded_for_ms: event.degradedForMs }, 'limits_store_recovered');
    }
  };
}

export function countDegradedDecision(scope: 'rate' | 'concurrency'): void {
  degradedDecisions.add(1, { scope });
}
