/**
 * The demo's incident timeline: each incident is staged through a real
 * mechanism (upstream latency past the budget, a revoked OAuth grant, a noisy
 * importer hitting the budgets while the CRM errors), so the trail, the
 * dashboards and the alerts show what they would show in production.
 */
export type IncidentKind = 'slow_upstream' | 'revoked_token' | 'noisy_tenant';

export interface IncidentStep {
  kind: IncidentKind;
  tenantId: string;
  /** Start, from the beginning of each cycle. */
  atMs: number;
  durationMs: number;
  /** slow_upstream: the share of the tenant's requests slowed (default all of them). */
  share?: number;
}

/** A six-minute cycle: a quiet minute, then three overlapping incidents for different tenants. */
export const DEFAULT_INCIDENTS: readonly IncidentStep[] = [
  // 40%: enough to exhaust budgets, not so many that the tenant's breaker opens and hides the deadlines.
  { kind: 'slow_upstream', tenantId: 'globex', atMs: 60_000, durationMs: 90_000, share: 0.4 },
  { kind: 'revoked_token', tenantId: 'initech', atMs: 120_000, durationMs: 90_000 },
  { kind: 'noisy_tenant', tenantId: 'acme', atMs: 180_000, durationMs: 90_000 },
];
export const DEFAULT_INCIDENT_CYCLE_MS = 360_000;

export interface IncidentHooks {
  start(step: IncidentStep): Promise<void> | void;
  end(step: IncidentStep): Promise<void> | void;
  /** Errors of a hook (class only): an incident must never stop the demo. */
  onError?(step: IncidentStep, err: unknown): void;
}

export interface IncidentSchedule {
  /** Ends running incidents and cancels the rest. */
  stop(): Promise<void>;
}

export function scheduleIncidents(steps: readonly IncidentStep[], hooks: IncidentHooks, repeatEveryMs?: number): IncidentSchedule {
  const timers = new Set<NodeJS.Timeout>();
  const active = new Set<IncidentStep>();
  let stopped = false;

  const run = async (fn: () => Promise<void> | void, step: IncidentStep) => {
    try {
      await fn();
    } catch (err) {
      hooks.onError?.(step, err);
    }
  };
  const later = (ms: number, fn: () => void) => {
    const t = setTimeout(() => {
      timers.delete(t);
      if (!stopped) fn();
    }, ms);
    t.unref();
    timers.add(t);
  };
  const cycle = () => {
    for (const step of steps) {
      later(step.atMs, () => {
        active.add(step);
        void run(() => hooks.start(step), step);
        later(step.durationMs, () => {
          active.delete(step);
          void run(() => hooks.end(step), step);
        });
      });
    }
    if (repeatEveryMs) later(repeatEveryMs, cycle);
  };
  cycle();

  return {
    async stop() {
      stopped = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      for (const step of active) await run(() => hooks.end(step), step);
      active.clear();
    },
  };
}
