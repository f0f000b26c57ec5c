export interface CallClass {
  /** HTTP method, recorded for context; the decision rests on `kind`. */
  method: string;
  kind: 'read' | 'write';
  /** The Idempotency-Key sent with a write. */
  idempotencyKey?: string;
  /** Whether this upstream deduplicates on that key (Stripe, HubSpot...). */
  upstreamHonoursIdempotency?: boolean;
}

export type RetrySafety =
  | { retrySafe: true; reason: 'read' | 'idempotent_write' }
  | { retrySafe: false; reason: 'write_without_idempotency' };

/**
 * Reads retry freely; writes only when the upstream deduplicates them by an
 * idempotency key we send. Everything else runs once: retrying a
 * non-idempotent write is how duplicate invoices happen.
 */
export function classify(call: CallClass): RetrySafety {
  if (call.kind === 'read') return { retrySafe: true, reason: 'read' };
  if (call.idempotencyKey && call.upstreamHonoursIdempotency) return { retrySafe: true, reason: 'idempotent_write' };
  return { retrySafe: false, reason: 'write_without_idempotency' };
}
