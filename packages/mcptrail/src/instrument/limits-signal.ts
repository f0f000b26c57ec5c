/**
 * Surfacing a limits-store outage: when Redis is unreachable, RateLimits and
 * RedisConcurrencyCap decide per instance (insurance limiter) and report the
 * transition. This turns those reports into a log line (error class only,
 * never the Redis URL) and counters on the OpenTelemetry metrics API, taken
 * lazily so they count once a MeterProvider runs (telemetry/meters.ts).
 */
import type { Counter } from '@opentelemetry/api';
import type { Logger } from '../record/index.js';
import type { LimitsEvent } from '../runtime/index.js';
import { lazyInstruments } from '../telemetry/meters.js';

const transitions = lazyInstruments(
  (meter): Counter =>
    meter.createCounter('mcptrail.limits.store_transitions', {
      description: 'Limits store outages and recoveries (insurance limiter taking over or handing back)',
    }),
);
const degradedDecisions = lazyInstruments(
  (meter): Counter =>
    meter.createCounter('mcptrail.limits.degraded_decisions', {
      description: 'Rate-limit decisions taken per instance while the shared store was unreachable',
    }),
);

/** Pass as `onEvent` to RateLimits / RedisConcurrencyCap. */
export function limitsEventLogger(logger: Logger | undefined): (event: LimitsEvent) => void {
  return (event) => {
    for (const c of transitions()) c.add(1, { type: event.type, store: event.store });
    if (event.type === 'degraded') {
      logger?.warn({ store: event.store, error_class: event.errorClass }, 'limits_store_degraded');
    } else {
      logger?.info({ store: event.store, degraded_for_ms: event.degradedForMs }, 'limits_store_recovered');
    }
  };
}

export function countDegradedDecision(scope: 'rate' | 'concurrency'): void {
  for (const c of degradedDecisions()) c.add(1, { scope });
}
