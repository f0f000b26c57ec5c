/** A fixed-window budget: `points` calls per `perSeconds` seconds (rate-limiter-flexible semantics). */
export interface BucketSpec {
  points: number;
  perSeconds: number;
}

/**
 * Budgets, composed: a call must fit all that apply. `tool` is one spec for
 * every tool, or a spec per tool name (`'*'` = default for unlisted tools;
 * tools neither listed nor covered by `'*'` have no tool budget).
 */
export interface LimitsConfig {
  agent?: BucketSpec;
  tool?: BucketSpec | Record<string, BucketSpec>;
  tenant?: BucketSpec;
}

export interface LimitSubject {
  tenantId: string;
  agentId: string;
  tool: string;
}

export type RateBudget = 'agent' | 'tool' | 'tenant' | 'concurrency';

export interface Allowed {
  allowed: true;
}

/** Temporary: the agent may retry after `retryAfterSeconds`. */
export interface RateLimited {
  allowed: false;
  permanent: false;
  budget: RateBudget;
  retryAfterSeconds: number;
}

/** Policy, not load: the agent must not retry (tenant suspended, tool disabled for the tenant...). */
export interface PermanentlyDenied {
  allowed: false;
  permanent: true;
  reason: string;
}

export type LimitDecision = Allowed | RateLimited | PermanentlyDenied;

/** Returns a reason code to deny the call permanently, or undefined to let the budgets decide. */
export type DenyPolicy = (subject: LimitSubject) => string | undefined | Promise<string | undefined>;

/**
 * Store-outage events, so dashboards and alerts see that limits are running
 * on per-instance insurance (or failing open/closed) rather than globally.
 */
export type LimitsEvent =
  | { type: 'degraded'; store: 'redis'; errorClass: string }
  | { type: 'recovered'; store: 'redis'; degradedForMs: number };

export function isBucketSpec(value: unknown): value is BucketSpec {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as BucketSpec).points === 'number' &&
    typeof (value as BucketSpec).perSeconds === 'number'
  );
}
