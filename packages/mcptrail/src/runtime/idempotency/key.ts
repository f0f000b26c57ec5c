import { sha256Hex } from '../../crypto/sha256.js';

/**
 * JSON with object keys sorted at every level, so `{a,b}` and `{b,a}` hash
 * alike. undefined members are dropped (as JSON.stringify does); non-finite
 * numbers become null.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    const s = JSON.stringify(value);
    return s === undefined ? 'null' : s;
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const toJson = (value as { toJSON?: () => unknown }).toJSON;
  if (typeof toJson === 'function') return canonicalJson(toJson.call(value));
  const entries = Object.keys(value)
    .sort()
    .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
    .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
  return `{${entries.join(',')}}`;
}

export interface IdempotencyRequest {
  tenantId: string;
  tool: string;
  args: unknown;
  /** An agent-supplied key (e.g. `Idempotency-Key`); wins over the derived one. */
  callerKey?: string;
}

/** What the call does: the same tool with the same arguments. */
export function requestFingerprint(req: Pick<IdempotencyRequest, 'tool' | 'args'>): string {
  return sha256Hex(`${req.tool}\n${canonicalJson(req.args)}`);
}

/**
 * The key recorded on the CallRecord. Derived keys include the tenant, so two
 * tenants never share one; storage is tenant-scoped on top of that, so a
 * caller key reused by another tenant is a different entry too.
 */
export function idempotencyKey(req: IdempotencyRequest): string {
  return req.callerKey ?? sha256Hex(`${req.tenantId}\n${req.tool}\n${canonicalJson(req.args)}`);
}
