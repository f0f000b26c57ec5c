/**
 * What a tool's result may carry to the agent. Two steps:
 *  1. allow-list: fields outside the tool's `output.allow` are dropped from
 *     structuredContent and from text content that is JSON (plain text is
 *     left as is: it has no fields to select);
 *  2. boundary: text content is wrapped as
 *     `<untrusted-data id="N">…</untrusted-data id="N">`, N being 128 random
 *     bits drawn after the data exists, so the data cannot close the boundary
 *     (a `</untrusted-data>` inside it names no or a wrong id). structuredContent
 *     is JSON, data by construction, and is not wrapped.
 */
import { randomFillSync } from 'node:crypto';
import { applyAllowList, compileAllowList, type AllowTree } from './allow-list.js';
import type { OutputPolicy } from './policy.js';

export interface OutputGuard {
  /** Step 1; the filtered result is what idempotent replays store. */
  filter(result: unknown): unknown;
  /** Step 2, per answer (a fresh nonce each time). */
  wrap(result: unknown): unknown;
}

type Content = { type?: unknown; text?: unknown };
type ResultLike = { content?: unknown; structuredContent?: unknown };

const NO_POLICY: OutputPolicy = {};
/** Guards compiled per policy object: a stateless server re-registers its tools per request, with the same policies. */
const compiled = new WeakMap<OutputPolicy, OutputGuard>();

export function outputGuard(policy: OutputPolicy | undefined): OutputGuard {
  const key = policy ?? NO_POLICY;
  let guard = compiled.get(key);
  if (!guard) {
    const tree = key.allow ? compileAllowList(key.allow) : undefined;
    const untrusted = key.untrusted ?? true;
    guard = {
      filter: (result) => (tree ? filterResult(result, tree) : result),
      wrap: (result) => (untrusted ? wrapResult(result) : result),
    };
    compiled.set(key, guard);
  }
  return guard;
}

function filterResult(result: unknown, tree: AllowTree): unknown {
  if (!isObject(result)) return result;
  const r = result as ResultLike;
  const out: Record<string, unknown> = { ...result };
  if (isObject(r.structuredContent)) out.structuredContent = applyAllowList(r.structuredContent, tree) ?? {};
  if (Array.isArray(r.content)) out.content = r.content.map((c: Content) => (isText(c) ? { ...c, text: filterText(c.text, tree) } : c));
  return out;
}

function filterText(text: string, tree: AllowTree): string {
  const t = text.trimStart();
  if (!t.startsWith('{') && !t.startsWith('[')) return text;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return text;
  }
  return JSON.stringify(applyAllowList(parsed, tree) ?? {});
}

function wrapResult(result: unknown): unknown {
  if (!isObject(result) || !Array.isArray((result as ResultLike).content)) return result;
  const nonce = nextNonce();
  const content = ((result as ResultLike).content as Content[]).map((c) =>
    isText(c) ? { ...c, text: `<untrusted-data id="${nonce}">\n${c.text}\n</untrusted-data id="${nonce}">` } : c,
  );
  return { ...result, content };
}

// Nonces come from a pooled CSPRNG buffer: one randomFillSync per 256 nonces
// instead of one randomBytes call each. Every 16-byte slice is handed out
// once (the offset only moves forward; the buffer is refilled, never re-read).
const POOL = Buffer.allocUnsafe(4096);
let poolOffset = POOL.length;

function nextNonce(): string {
  if (poolOffset + 16 > POOL.length) {
    randomFillSync(POOL);
    poolOffset = 0;
  }
  const start = poolOffset;
  poolOffset += 16;
  return POOL.toString('hex', start, poolOffset);
}

/** The text inside a boundary, or the text itself when it has none (for clients and tests). */
export function unwrapUntrusted(text: string): string {
  const m = /^<untrusted-data id="([0-9a-f]{32})">\n([\s\S]*)\n<\/untrusted-data id="\1">$/.exec(text);
  return m ? m[2]! : text;
}

function isText(c: unknown): c is { type: 'text'; text: string } {
  return isObject(c) && (c as Content).type === 'text' && typeof (c as Content).text === 'string';
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
