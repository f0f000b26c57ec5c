/**
 * The edge's admission, decided from the request line and headers alone
 * (fastify onRequest, before the body is read): authentication, then for
 * unauthenticated requests a token bucket per client address and a cap on
 * unauthenticated bodies being read at once. Anyone who can reach the port
 * can send these requests, so what they cost (memory, parsing, audit records)
 * is bounded here; authenticated requests never touch either budget, so an
 * attacker behind the same address (a NAT, a proxy) cannot starve a real
 * agent. Requests refused unread are counted in the per-minute summary.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { isAuthError, type AuthError, type Authenticator, type Principal } from '../auth/index.js';
import type { RecordSink } from '../record/index.js';
import { JSONRPC_RATE_LIMITED } from './edge-checks.js';
import { createRefusalSummary, type UnreadReason } from './refusal-summary.js';

export interface EdgeGuardOptions {
  /** Unauthenticated requests an address may send at once. Default 20. */
  burst?: number;
  /** ... and per second after that. Default 2. */
  perSecond?: number;
  /** Addresses tracked; past it the least recently seen is forgotten. Default 10,000. */
  maxAddresses?: number;
  /** Unauthenticated request bodies read at the same time, over all addresses. Default 4. */
  maxInFlight?: number;
}

export type GuardDecision =
  | { allowed: true; release(): void }
  | { allowed: false; reason: 'address_rate_limited' | 'unauthenticated_in_flight'; retryAfterSeconds: number };

export interface EdgeGuard {
  /** An unauthenticated request from `address`: may its body be read? `release()` once it is answered. */
  admitUnauthenticated(address: string): GuardDecision;
  readonly inFlight: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

export function createEdgeGuard(opts: EdgeGuardOptions = {}): EdgeGuard {
  const burst = Math.max(1, opts.burst ?? 20);
  const perSecond = Math.max(0.001, opts.perSecond ?? 2);
  const maxAddresses = Math.max(1, opts.maxAddresses ?? 10_000);
  const maxInFlight = Math.max(1, opts.maxInFlight ?? 4);
  // Insertion order is recency order: a touched address is re-inserted at the end.
  const buckets = new Map<string, Bucket>();
  let inFlight = 0;

  function take(address: string, now: number): number {
    const b = buckets.get(address);
    const tokens = b ? Math.min(burst, b.tokens + ((now - b.at) / 1000) * perSecond) : burst;
    if (b) buckets.delete(address);
    else if (buckets.size >= maxAddresses) buckets.delete(buckets.keys().next().value!);
    if (tokens < 1) {
      buckets.set(address, { tokens, at: now });
      return Math.max(1, Math.ceil((1 - tokens) / perSecond));
    }
    buckets.set(address, { tokens: tokens - 1, at: now });
    return 0;
  }

  return {
    admitUnauthenticated(address) {
      const retryAfterSeconds = take(address, Date.now());
      if (retryAfterSeconds > 0) return { allowed: false, reason: 'address_rate_limited', retryAfterSeconds };
      if (inFlight >= maxInFlight) return { allowed: false, reason: 'unauthenticated_in_flight', retryAfterSeconds: 1 };
      inFlight++;
      let released = false;
      return {
        allowed: true,
        release() {
          if (released) return;
          released = true;
          inFlight--;
        },
      };
    },
    get inFlight() {
      return inFlight;
    },
  };
}

/** What onRequest learnt from the headers: who is calling, or why nobody is. */
export type Admission = { principal: Principal; authError?: undefined } | { principal?: undefined; authError: AuthError };

export interface EdgeAdmission {
  /** fastify onRequest hook of the MCP route. */
  admit(req: FastifyRequest, reply: FastifyReply): Promise<unknown>;
  /** fastify onError hook of the MCP route: a body over the limit (413) is refused unread, and counted. */
  countUnread(req: FastifyRequest, reply: FastifyReply, err: { statusCode?: number }): Promise<void>;
  admissionOf(req: FastifyRequest): Admission | undefined;
  /** Counts a request refused unread for another reason (an unauthenticated one: no record of its own). */
  countRefused(reason: UnreadReason, principal?: Principal): void;
  /** Emits the open per-minute summary (on close). */
  flush(): void;
}

export function createEdgeAdmission(deps: {
  authenticator: Authenticator;
  guard?: EdgeGuardOptions | false;
  service: string;
  sink: RecordSink;
}): EdgeAdmission {
  const guard = deps.guard === false ? undefined : createEdgeGuard(deps.guard);
  const summary = createRefusalSummary({ service: deps.service, sink: deps.sink });
  const admissions = new WeakMap<FastifyRequest, Admission>();

  return {
    async admit(req, reply) {
      try {
        admissions.set(req, { principal: await deps.authenticator.authenticate(req.headers.authorization) });
        return;
      } catch (err) {
        if (!isAuthError(err)) throw err;
        admissions.set(req, { authError: err });
      }
      if (!guard) return;
      const decision = guard.admitUnauthenticated(req.ip);
      if (decision.allowed) {
        reply.raw.once('close', decision.release);
        return;
      }
      summary.count(decision.reason);
      return reply
        .code(429)
        .header('retry-after', String(decision.retryAfterSeconds))
        .send({
          jsonrpc: '2.0',
          error: {
            code: JSONRPC_RATE_LIMITED,
            message: `Too many unauthenticated requests: authenticate, or retry after ${decision.retryAfterSeconds} seconds.`,
            data: { rate_limited: true, retry_after_seconds: decision.retryAfterSeconds, budget: 'address', retryable: true },
          },
          id: null,
        });
    },
    async countUnread(req, _reply, err) {
      if (err.statusCode === 413) summary.count('body_too_large', admissions.get(req)?.principal);
    },
    admissionOf: (req) => admissions.get(req),
    countRefused: (reason, principal) => summary.count(reason, principal),
    flush: () => summary.flush(),
  };
}
