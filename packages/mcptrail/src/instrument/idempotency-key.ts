/**
 * Where a call's idempotency key comes from: the caller's `_meta`
 * (`io.mcptrail/idempotency-key`, or `idempotencyKey`), else an
 * `idempotency_key` argument; without one the store derives it from tenant +
 * tool + arguments.
 *
 * Records carry sha256(key), not the key: a caller key is free text chosen by
 * an agent and may embed customer data. The upstream receives the key itself
 * (as Idempotency-Key), so hashing what the upstream logged correlates the two.
 */
import { sha256Hex } from '../crypto/sha256.js';

export const META_KEYS = ['io.mcptrail/idempotency-key', 'idempotencyKey'] as const;
export const ARGUMENT_KEY = 'idempotency_key';

/** Visible ASCII, bounded: also safe as an HTTP header value. */
const VALID = /^[\x21-\x7e]{1,200}$/;

export function callerIdempotencyKey(meta: Record<string, unknown> | undefined, args: unknown): string | undefined {
  for (const k of META_KEYS) {
    const v = meta?.[k];
    if (typeof v === 'string' && VALID.test(v)) return v;
  }
  const arg = typeof args === 'object' && args !== null ? (args as Record<string, unknown>)[ARGUMENT_KEY] : undefined;
  return typeof arg === 'string' && VALID.test(arg) ? arg : undefined;
}

export function recordedIdempotencyKey(key: string): string {
  return sha256Hex(key);
}
