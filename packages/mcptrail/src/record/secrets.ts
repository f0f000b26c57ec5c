/**
 * Secret detection for argument summaries. Deliberately over-eager: a false
 * positive only costs a hashed value in the audit log, a false negative leaks.
 */

export const SECRET_FIELD_NAME = /pass|secret|token|api[-_]?key|authorization|cookie|session|credential|private/i;

/** Secret-looking substrings (also masked one by one in a stated intent, record/intent.ts). */
export const SECRET_PATTERNS: readonly RegExp[] = [
  /eyJ[\w-]{4,}\.[\w-]{4,}\.[\w-]*/, // JWT / JWS compact
  /\b(bearer|basic)\s+[\w\-.~+/=]{8,}/i, // Authorization header values
  /\b(sk|pk|rk)[-_][\w-]{8,}/, // Stripe / OpenAI style secret keys
  /\bgh[pousr]_[A-Za-z0-9]{16,}/, // GitHub tokens
  /\bgithub_pat_\w{16,}/,
  /\bglpat-[\w-]{16,}/, // GitLab
  /\bxox[abposr]-[\w-]{8,}/, // Slack
  /\bAKIA[0-9A-Z]{16}\b/, // AWS access key id
  /\bAIza[\w-]{30,}/, // Google API key
  /-----BEGIN [A-Z ]*PRIVATE KEY-----/,
  /:\/\/[^/\s:@]+:[^/\s@]+@/, // credentials in a URL
];

const CARD_CANDIDATE = /\b\d(?:[ -]?\d){12,18}\b/g;

/** Minimum length and entropy (bits per char) of an opaque token we treat as a secret. */
const OPAQUE_MIN_LEN = 24;
const OPAQUE_MIN_ENTROPY = 3.5;

export function looksLikeSecret(value: string): boolean {
  for (const re of SECRET_PATTERNS) if (re.test(value)) return true;
  if (containsCardNumber(value)) return true;
  return containsOpaqueToken(value);
}

function containsCardNumber(value: string): boolean {
  if (value.length < 13) return false;
  for (const m of value.matchAll(CARD_CANDIDATE)) {
    if (luhnValid(m[0].replace(/[ -]/g, ''))) return true;
  }
  return false;
}

export function luhnValid(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return false;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

function containsOpaqueToken(value: string): boolean {
  if (value.length < OPAQUE_MIN_LEN) return false;
  for (const word of value.split(/[\s"'<>()[\]{},;]+/)) {
    if (word.length >= OPAQUE_MIN_LEN && mixedClasses(word) && shannonEntropy(word) >= OPAQUE_MIN_ENTROPY) {
      return true;
    }
  }
  return false;
}

/** Letters and digits together: prose words and long numbers don't qualify. */
function mixedClasses(word: string): boolean {
  return /[A-Za-z]/.test(word) && /\d/.test(word);
}

function shannonEntropy(s: string): number {
  const counts = new Map<string, number>();
  for (const ch of s) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let h = 0;
  for (const n of counts.values()) {
    const p = n / s.length;
    h -= p * Math.log2(p);
  }
  return h;
}
