/**
 * Requests the edge refuses before reading their body (an address over its
 * unauthenticated budget, too many unauthenticated bodies in flight, a body
 * over the size limit) are counted, not recorded one by one: one summary
 * record per minute and kind, whose `calls_in_request` is the number of such
 * requests. A flood of them then costs the trail a few records a minute.
 */
import { randomUUID } from 'node:crypto';
import { INVALID_SPAN_CONTEXT, trace } from '@opentelemetry/api';
import type { Principal } from '../auth/index.js';
import type { CallRecord, RecordSink } from '../record/index.js';
import { newCallContext } from './call-context.js';
import { emitRefusal } from './edge-refusals.js';
import { buildRecord } from './record-builder.js';

export type UnreadReason = 'address_rate_limited' | 'unauthenticated_in_flight' | 'body_too_large' | 'origin_not_allowed';

export interface RefusalSummary {
  count(reason: UnreadReason, principal?: Principal): void;
  /** Emits every open count now (on shutdown). */
  flush(): void;
}

/** Distinct (reason, tenant, agent) keys a minute; the rest share one key without identity. */
const MAX_KEYS = 100;

interface Tally {
  reason: UnreadReason;
  principal: Principal | undefined;
  requests: number;
}

export function createRefusalSummary(deps: { service: string; sink: RecordSink }): RefusalSummary {
  let minute = 0;
  let tallies = new Map<string, Tally>();
  let timer: NodeJS.Timeout | undefined;

  function flush(): void {
    if (timer) clearTimeout(timer);
    timer = undefined;
    const open = tallies;
    const at = minute;
    tallies = new Map();
    for (const t of open.values()) emitRefusal(deps.sink, summaryRecord(deps.service, at, t));
  }

  return {
    count(reason, principal) {
      const now = Date.now();
      const thisMinute = now - (now % 60_000);
      if (thisMinute !== minute) {
        flush();
        minute = thisMinute;
      }
      let key = `${reason}\n${principal?.tenantId ?? ''}\n${principal?.agentId ?? ''}`;
      if (!tallies.has(key) && tallies.size >= MAX_KEYS) {
        key = `${reason}\n*`;
        principal = undefined;
      }
      const t = tallies.get(key);
      if (t) t.requests++;
      else tallies.set(key, { reason, principal, requests: 1 });
      if (!timer) {
        timer = setTimeout(flush, thisMinute + 60_000 - now);
        timer.unref();
      }
    },
    flush,
  };
}

function summaryRecord(service: string, minute: number, t: Tally): CallRecord {
  const addressBudget = t.reason === 'address_rate_limited';
  const ctx = newCallContext({
    principal: t.principal,
    // No span: one per summary would be a span for many requests.
    span: trace.wrapSpanContext(INVALID_SPAN_CONTEXT),
    sessionId: '',
    requestId: '',
    callId: randomUUID(),
    tool: '',
    startedAt: minute,
    budgetMs: 0,
  });
  return buildRecord(ctx, {
    service,
    toolVersion: '',
    toolDeprecated: false,
    scopeRequired: '',
    // An authenticated caller's oversized body is its own fault, like an invalid request.
    outcome: t.principal ? 'tool_error' : 'unauthenticated',
    errorClass: 'EdgeGuard',
    errorCode: t.reason,
    durationMs: 0,
    argsSummary: '{}',
    rateLimitBudget: addressBudget ? 'address' : '',
    idempotencyKey: '',
    idempotentReplay: false,
    callsInRequest: t.requests,
  });
}
