/**
 * Caller-chosen identifiers bounded and sanitised before they reach a
 * column, a span name or attribute, a metric label or a log line. A JSON-RPC
 * id, a tool name nobody registered and a `tracestate` are free text an agent
 * (or an attacker) writes: they may carry a secret, an email, or megabytes.
 */
import { trace, type Context, type Link, type SpanContext } from '@opentelemetry/api';
import { sha256Hex } from '../crypto/sha256.js';
import { looksLikeSecret } from '../record/secrets.js';

/** The tool name recorded for a tools/call naming no registered tool. */
export const UNKNOWN_TOOL = 'unknown';

/** Ids that are plain short tokens (what clients use: 1, 2, "req-17") are kept as they are. */
const PLAIN_ID = /^[\w.:-]{1,64}$/;
/** The SDKs' counters: too short to be a card number or a token, no check needed. */
const SMALL_NUMBER = /^\d{1,12}$/;
const PROTOCOL_VERSION = /^\d{4}-\d{2}-\d{2}$/;

/** `sha256:` + 16 hex digits of the value: correlatable by whoever knows it, readable by nobody else. */
export function hashedId(value: string): string {
  return `sha256:${sha256Hex(value).slice(0, 16)}`;
}

/** A JSON-RPC request id as stored: as is when it is a plain token, else hashed. */
export function recordedRequestId(id: string): string {
  if (id === '' || SMALL_NUMBER.test(id)) return id;
  return PLAIN_ID.test(id) && !looksLikeSecret(id) ? id : hashedId(id);
}

/** An MCP protocol revision (a date) as stored; anything else a client sends is not recorded. */
export function recordedProtocolVersion(version: string): string {
  return PROTOCOL_VERSION.test(version) ? version : '';
}

/** Printable text without controls or markup-significant characters (what client names and versions look like). */
const CLIENT_TEXT = /^[\p{L}\p{N} ._+~:@()\/-]+$/u;

/**
 * A client's declared name or version as stored: clipped, and hashed unless it
 * is plain printable text that does not look like a secret (it is caller text:
 * a client can declare anything).
 */
export function recordedClientText(value: string, max: number): string {
  if (value === '') return '';
  // A server sees a handful of client names and versions: each is checked once, not per record.
  const key = max === 128 ? value : `${max}\0${value}`;
  let recorded = clientTexts.get(key);
  if (recorded === undefined) {
    const clipped = value.slice(0, max);
    recorded = CLIENT_TEXT.test(clipped) && !looksLikeSecret(clipped) ? clipped : hashedId(value);
    if (clientTexts.size >= MAX_CLIENT_TEXTS) clientTexts.clear();
    clientTexts.set(key, recorded);
  }
  return recorded;
}

const MAX_CLIENT_TEXTS = 1_000;
const clientTexts = new Map<string, string>();

/** The name a record and span carry for a tool: registered names as is, any other as `unknown` (and its hash). */
export function recordedToolName(name: string, registered: boolean): { tool: string; nameSha256?: string } {
  if (registered) return { tool: name };
  return name === '' ? { tool: UNKNOWN_TOOL } : { tool: UNKNOWN_TOOL, nameSha256: sha256Hex(name) };
}

/** W3C allows 512 characters; a tracestate member is vendor data, so values that look like data are dropped. */
const MAX_TRACE_STATE_CHARS = 256;
const MAX_TRACE_STATE_MEMBERS = 8;

function keepMember(value: string): boolean {
  return !value.includes('@') && !looksLikeSecret(value);
}

/** The span context with its tracestate bounded (members, length) and secret- or email-looking members dropped. */
export function sanitizeSpanContext(sc: SpanContext): SpanContext {
  const state = sc.traceState;
  if (!state) return sc;
  const serialized = state.serialize();
  if (serialized === '') return sc;
  let next = state;
  let kept = 0;
  let chars = 0;
  for (const member of serialized.split(',')) {
    const eq = member.indexOf('=');
    const key = member.slice(0, eq);
    chars += member.length + (kept > 0 ? 1 : 0);
    if (kept < MAX_TRACE_STATE_MEMBERS && chars <= MAX_TRACE_STATE_CHARS && keepMember(member.slice(eq + 1))) kept++;
    else {
      chars -= member.length + (kept > 0 ? 1 : 0);
      next = next.unset(key);
    }
  }
  return next === state ? sc : { ...sc, traceState: next };
}

/** The parent context with a sanitised tracestate (the SERVER span inherits it, and sends it upstream). */
export function sanitizeParent(parent: Context): Context {
  const sc = trace.getSpanContext(parent);
  if (!sc?.traceState) return parent;
  const clean = sanitizeSpanContext(sc);
  return clean === sc ? parent : trace.setSpanContext(parent, clean);
}

export function sanitizeLinks(links: Link[] | undefined): Link[] | undefined {
  if (!links) return links;
  return links.map((l) => {
    const clean = sanitizeSpanContext(l.context);
    return clean === l.context ? l : { ...l, context: clean };
  });
}
