import type { LimitsEvent } from './types.js';

/**
 * Whether the shared store is failing. Flips on the first fallback decision
 * and back on the first decision the store answers again, emitting one event
 * per transition so an alert fires once per outage, not per call.
 */
export class DegradedSignal {
  private since = 0;
  /** Decisions taken without the shared store since start (a counter for metrics). */
  fallbackDecisions = 0;

  constructor(private readonly onEvent?: (event: LimitsEvent) => void) {}

  get degraded(): boolean {
    return this.since !== 0;
  }

  fellBack(errorClass: string): void {
    this.fallbackDecisions++;
    if (this.since !== 0) return;
    this.since = Date.now();
    this.onEvent?.({ type: 'degraded', store: 'redis', errorClass });
  }

  storeAnswered(): void {
    if (this.since === 0) return;
    const degradedForMs = Date.now() - this.since;
    this.since = 0;
    this.onEvent?.({ type: 'recovered', store: 'redis', degradedForMs });
  }
}
