/**
 * Writes that never finished. Before a write tool's handler runs, its intent
 * (the call's record, with outcome `interrupted`) is stored with the
 * idempotency claim, durably when the store is (the file journal, Redis). If
 * the process dies before the call settles, the intent is what recovery
 * records: the trail then shows a call whose upstream effect may have
 * happened, with the call id, trace and key of the one that ran. A retry with
 * the same key is answered `interrupted` and not run again, so an upstream
 * that does not deduplicate cannot get a second effect (policy
 * `upstreamDedupes: true` lets it run again instead).
 */
import type { CallContext } from '../context/index.js';
import { CallRecordSchema, summarizeArgs, type CallRecord, type RecordSink } from '../record/index.js';
import type { IdempotencyStore } from '../runtime/index.js';
import { recordedIdempotencyKey } from './idempotency-key.js';
import type { ToolPolicy } from './policy.js';
import { buildRecord, type RecordFacts } from './record-builder.js';

export const INTERRUPTED_CLASS = 'Interrupted';
/** The intent of a call was stored, its outcome never was. */
export const INTERRUPTED_CODE = 'no_outcome';

/** The intent stored with the claim: this call's record as recovery would write it. */
export function intentOf(ctx: CallContext, facts: RecordFacts, args: unknown, redact: ToolPolicy['redact']) {
  return (key: string): CallRecord =>
    buildRecord(ctx, {
      ...facts,
      outcome: 'interrupted',
      errorClass: INTERRUPTED_CLASS,
      errorCode: INTERRUPTED_CODE,
      durationMs: 0,
      argsSummary: summarizeArgs(args, redact),
      idempotencyKey: recordedIdempotencyKey(key),
      idempotentReplay: false,
    });
}

/** The call id of the call an intent belongs to ('' when unknown). */
export function intentCallId(intent: unknown): string {
  const id = (intent as { call_id?: unknown } | null)?.call_id;
  return typeof id === 'string' ? id : '';
}

const watched = new WeakSet<IdempotencyStore>();

/**
 * Records, through `sink`, every call the store finds interrupted: now
 * (intents left by a process that died) and as later sweeps find them. Once
 * per store; instrument() does it for its idempotency store.
 */
export function recordInterruptedCalls(store: IdempotencyStore, sink: RecordSink): Promise<number> {
  if (watched.has(store)) return Promise.resolve(0);
  watched.add(store);
  return store.watchInterrupted((intent) => {
    const parsed = CallRecordSchema.safeParse(intent);
    // The same call id as the call that ran: if its own record made it after all, the collector keeps that one.
    if (parsed.success) sink.emit(parsed.data);
  });
}

/** HTTP statuses that say the upstream did not carry the write out. */
const NOT_DONE_STATUSES = new Set([400, 401, 403, 404, 405, 409, 410, 413, 415, 422, 429]);
const NOT_SENT_CODES = new Set(['upstream_network_econnrefused', 'upstream_network_enotfound', 'upstream_network_eai_again']);

/**
 * Whether a failed call may have had its effect: a write went out and the
 * answer does not say it was refused (a timeout, a dropped connection, a
 * 5xx). Such a key is not freed for a retry: the retry would be a second
 * effect when the upstream does not deduplicate.
 */
export function effectMayHaveHappened(ctx: CallContext, err: unknown): boolean {
  if (ctx.upstreamWrites === 0) return false;
  const e = err as { name?: unknown; status?: unknown; code?: unknown } | null;
  if (e?.name === 'UpstreamError' && typeof e.status === 'number' && NOT_DONE_STATUSES.has(e.status)) return false;
  if (typeof e?.code === 'string' && NOT_SENT_CODES.has(e.code)) return false;
  return true;
}
