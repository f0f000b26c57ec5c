/**
 * Multi-round-trip calls (MCP 2026-07-28 `input_required`) as one logical
 * call. A round that answers `input_required` gets its record (outcome
 * `input_required`, what it asked); the client answers and retries on a fresh
 * request id, echoing the `requestState` byte for byte; that round gets its
 * own record, with the same `logical_call_id`, the next `round` and what the
 * client answered. Records stay one per executed request.
 *
 * The logical call travels in the `requestState` itself, sealed with the
 * SDK's own HMAC codec (`createRequestStateCodec`) and bound to the caller
 * (tenant, agent, tool): a client cannot forge a logical id, move another
 * agent's state onto its call, or replay it past its expiry. The handler's
 * own `requestState` rides inside and is handed back to it unsealed, so a
 * handler writes `inputRequired({ requestState })` as it would without
 * mcptrail (and gets the integrity the spec asks for). The key is shared by
 * every instance that may serve a later round (`requestStateKey`, env
 * MCPTRAIL_REQUEST_STATE_KEY); without one a per-process key is made, and a
 * round served by another process is refused as an invalid state.
 *
 * The same holds on legacy connections the SDK's shim serves (it re-enters
 * the handler in-process with the client's answers): one record per round.
 */
import { randomBytes } from 'node:crypto';
import { isSpanContextValid, ROOT_CONTEXT, trace, TraceFlags, type Context, type Link } from '@opentelemetry/api';
import { summarizeArgs, type RedactRules } from '../record/index.js';
import { sha256Hex } from '../crypto/sha256.js';

/** What a round's sealed state says about the logical call. */
export interface OpenedRound {
  logicalCallId: string;
  /** The round that minted the state (the retry is the next one). */
  round: number;
  traceId: string;
  spanId: string;
  traceFlags: number;
  /** The handler's own state, as it returned it. */
  inner: unknown;
}

interface Payload {
  l: string;
  r: number;
  t: string;
  s: string;
  f: number;
  i?: unknown;
}

export interface RoundCodec {
  seal(state: OpenedRound, binding: string): Promise<string>;
  /** undefined for state that is not ours, forged, expired or bound to another caller. */
  open(wire: string, binding: string): Promise<OpenedRound | undefined>;
}

type SdkCodec = { mint(payload: Payload, ctx?: unknown): Promise<string>; verify(state: string, ctx: unknown): Promise<Payload> };

export interface RoundCodecOptions {
  /** HMAC key (≥ 32 bytes). Default env MCPTRAIL_REQUEST_STATE_KEY, else a random per-process key. */
  key?: string | Uint8Array;
  /** How long a round's state stays valid. Default 600 s (the SDK codec's default). */
  ttlSeconds?: number;
}

/** The codec, built on first use from the v2 SDK (only v2 handlers return `input_required`). */
export function roundCodec(opts: RoundCodecOptions = {}): RoundCodec {
  let codec: Promise<SdkCodec> | undefined;
  const sdk = () =>
    (codec ??= import('@modelcontextprotocol/server').then(({ createRequestStateCodec }) =>
      createRequestStateCodec<Payload>({
        key: opts.key ?? process.env.MCPTRAIL_REQUEST_STATE_KEY ?? randomBytes(32),
        ttlSeconds: opts.ttlSeconds,
        // The binding travels as the codec's HMAC tag, never in clear.
        bind: (ctx) => (ctx as unknown as { binding: string }).binding,
      }) as unknown as SdkCodec,
    ));
  return {
    async seal(state, binding) {
      const payload: Payload = { l: state.logicalCallId, r: state.round, t: state.traceId, s: state.spanId, f: state.traceFlags };
      if (state.inner !== undefined) payload.i = state.inner;
      return (await sdk()).mint(payload, { binding });
    },
    async open(wire, binding) {
      try {
        const p = await (await sdk()).verify(wire, { binding });
        if (typeof p?.l !== 'string' || !Number.isInteger(p.r) || p.r < 1) return undefined;
        return { logicalCallId: p.l, round: p.r, traceId: String(p.t ?? ''), spanId: String(p.s ?? ''), traceFlags: Number(p.f) || 0, inner: p.i };
      } catch (err) {
        // The codec's reasons (mac, expired, bind, malformed) all mean the same here: not a state we issued for this caller.
        if (err instanceof Error) return undefined;
        throw err;
      }
    },
  };
}

/** Who may continue a logical call: the same tenant, agent and tool. */
export function roundBinding(tenantId: string, agentId: string, tool: string): string {
  return `${tenantId}\0${agentId}\0${tool}`;
}

export function isInputRequiredResult(value: unknown): value is { resultType: 'input_required'; inputRequests?: Record<string, unknown>; requestState?: unknown } {
  return typeof value === 'object' && value !== null && (value as { resultType?: unknown }).resultType === 'input_required';
}

/**
 * The parent of a later round's span: the request's own choice when it is in
 * the logical call's trace, else the first round's span (and the request's
 * choice becomes a link), so every round of a logical call is one trace.
 */
export function roundParent(opened: OpenedRound, chosen: { parent: Context; links: Link[] | undefined }): { parent: Context; links: Link[] | undefined } {
  const mine = trace.getSpanContext(chosen.parent);
  if (mine && isSpanContextValid(mine) && mine.traceId === opened.traceId) return chosen;
  const sc = { traceId: opened.traceId, spanId: opened.spanId, traceFlags: opened.traceFlags & TraceFlags.SAMPLED, isRemote: true };
  if (!isSpanContextValid(sc)) return chosen;
  const links: Link[] = [...(chosen.links ?? [])];
  if (mine && isSpanContextValid(mine)) links.push({ context: mine, attributes: { 'mcptrail.link': 'request' } });
  return { parent: trace.setSpanContext(ROOT_CONTEXT, sc), links: links.length ? links : undefined };
}

/** The client capability an embedded input request needs (MCP 2026-07-28 multi-round-trip). */
const NEEDS: Record<string, string> = {
  'elicitation/create': 'elicitation',
  'sampling/createMessage': 'sampling',
  'roots/list': 'roots',
};

/** The first input request the client's declared capabilities cannot answer, if any. */
export function unanswerable(inputRequests: Record<string, unknown> | undefined, capabilities: Record<string, unknown> | undefined): string | undefined {
  for (const [key, entry] of Object.entries(inputRequests ?? {})) {
    const method = (entry as { method?: unknown } | null)?.method;
    const needed = typeof method === 'string' ? NEEDS[method] : undefined;
    if (!needed || !capabilities || typeof capabilities[needed] !== 'object' || capabilities[needed] === null) return key;
  }
  return undefined;
}

const MAX_SUMMARY_CHARS = 4096;
const MAX_ENTRIES = 16;

/**
 * What a round asked, redacted: per request key its method, the elicitation
 * mode, the message as type/length/hash (server text that may quote
 * arguments) and the names of the fields it asked for (the server's schema).
 */
export function summarizeInputRequests(inputRequests: Record<string, unknown> | undefined): string {
  const out: Record<string, unknown> = {};
  for (const [key, entry] of Object.entries(inputRequests ?? {}).slice(0, MAX_ENTRIES)) {
    const e = (entry ?? {}) as { method?: unknown; params?: { mode?: unknown; message?: unknown; requestedSchema?: { properties?: unknown } } };
    const params = e.params ?? {};
    const fields = typeof params.requestedSchema?.properties === 'object' && params.requestedSchema.properties !== null
      ? Object.keys(params.requestedSchema.properties).slice(0, MAX_ENTRIES).map((k) => k.slice(0, 64))
      : undefined;
    out[key.slice(0, 64)] = {
      method: typeof e.method === 'string' ? e.method.slice(0, 64) : 'unknown',
      ...(typeof params.mode === 'string' ? { mode: params.mode.slice(0, 16) } : {}),
      ...(typeof params.message === 'string' ? { message: { type: 'string', len: params.message.length, sha256_8: sha256Hex(params.message).slice(0, 8) } } : {}),
      ...(fields ? { fields } : {}),
    };
  }
  return clip(JSON.stringify(out));
}

/**
 * What the client answered, redacted like the tool's arguments (the same
 * rules: allow-listed fields keep their value unless it looks secret): per
 * key the elicitation action and a summary of the content.
 */
export function summarizeInputResponses(inputResponses: Record<string, unknown> | undefined, rules: RedactRules | undefined): string {
  if (!inputResponses) return '';
  const out: Record<string, unknown> = {};
  for (const [key, entry] of Object.entries(inputResponses).slice(0, MAX_ENTRIES)) {
    const e = (entry ?? {}) as { action?: unknown; content?: unknown };
    out[key.slice(0, 64)] = {
      ...(typeof e.action === 'string' ? { action: e.action.slice(0, 16) } : {}),
      ...(e.content !== undefined ? { content: JSON.parse(summarizeArgs(e.content, rules)) } : {}),
    };
  }
  return clip(JSON.stringify(out));
}

function clip(json: string): string {
  return json.length <= MAX_SUMMARY_CHARS ? json : JSON.stringify({ _omitted: true, len: json.length });
}
