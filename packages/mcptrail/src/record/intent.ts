/**
 * The agent's stated intent as stored: one line of caller text, bounded and
 * masked by the rules allow-listed argument values follow (secrets.ts), plus
 * emails. The record, the span and every reader see only this form; the raw
 * text never leaves the request.
 *
 * Masking is per token rather than all-or-nothing (an allow-listed value that
 * looks secret is hashed whole): an intent is prose, and "refund D-1 for
 * [email]" still answers why.
 */
import { looksLikeSecret, SECRET_PATTERNS } from './secrets.js';

/** The column's bound (FIELDS.intent), in characters. */
export const MAX_INTENT_CHARS = 300;
/** Read at most this much of what the caller sent: masking runs on a bounded input. */
const MAX_INPUT_CHARS = 2048;

export const MASKED_SECRET = '[secret]';
export const MASKED_EMAIL = '[email]';

const EMAIL = /[^\s@<>()[\]{},;:"']+@[^\s@<>()[\]{},;:"']+\.[A-Za-z]{2,}/g;
const WHITESPACE = /[\s\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g;

/** Patterns that span words (`Bearer xyz`, a PEM header) are masked before the per-word pass. */
const GLOBAL_SECRET_PATTERNS = SECRET_PATTERNS.map((re) => new RegExp(re.source, re.flags.includes('g') ? re.flags : `${re.flags}g`));

/**
 * The intent to record: '' for anything but a non-blank string; whitespace and
 * control characters collapsed to single spaces; secret-looking tokens and
 * emails masked; at most MAX_INTENT_CHARS characters.
 */
export function recordedIntent(raw: unknown): string {
  if (typeof raw !== 'string') return '';
  let text = raw.length > MAX_INPUT_CHARS ? withoutLastWord(raw.slice(0, MAX_INPUT_CHARS)) : raw;
  text = text.replace(WHITESPACE, ' ').trim();
  if (text === '') return '';
  text = text.replace(EMAIL, MASKED_EMAIL);
  for (const re of GLOBAL_SECRET_PATTERNS) text = text.replace(re, MASKED_SECRET);
  // What is left is checked word by word: opaque high-entropy tokens, card numbers, a secret in punctuation.
  text = text
    .split(' ')
    .map((word) => (word !== MASKED_SECRET && word !== MASKED_EMAIL && looksLikeSecret(word) ? MASKED_SECRET : word))
    .join(' ');
  // Card numbers may be written in groups ("4242 4242 4242 4242"): checked over the whole text as well.
  if (looksLikeSecret(text)) text = text.replace(/\d(?:[ -]?\d){12,18}/g, MASKED_SECRET);
  return clip(text);
}

/** Clipped on a character boundary (never inside a surrogate pair). */
function clip(text: string): string {
  if (text.length <= MAX_INTENT_CHARS) return text;
  const cut = text.slice(0, MAX_INTENT_CHARS);
  const last = cut.charCodeAt(cut.length - 1);
  return last >= 0xd800 && last <= 0xdbff ? cut.slice(0, -1) : cut;
}

/** A cut at the input bound may split a secret in two: the partial last word is dropped, never masked half-way. */
function withoutLastWord(text: string): string {
  const space = text.search(/\s\S*$/);
  return space > 0 ? text.slice(0, space) : '';
}
