/**
 * Argument summaries for the audit record: by default a field is reduced to
 * its type, size and a short hash, so equal inputs can be correlated without
 * storing them. Only allow-listed scalar fields keep a (truncated) value, and
 * never when the name or the value looks like a secret.
 */
import { sha256Hex } from '../crypto/sha256.js';
import { looksLikeSecret, SECRET_FIELD_NAME } from './secrets.js';

export interface RedactRules {
  /** Fields whose scalar values are kept (strings truncated), unless they look secret. */
  allow?: readonly string[];
  /** Fields left out of the summary entirely. */
  drop?: readonly string[];
}

export const MAX_SUMMARY_BYTES = 8192;
const MAX_VALUE_CHARS = 64;
const MAX_KEY_CHARS = 64;

type ValueType = 'string' | 'number' | 'boolean' | 'null' | 'array' | 'object' | 'undefined';

interface FieldSummary {
  type: ValueType;
  len: number;
  sha256_8?: string;
  value?: string | number | boolean | null;
  secret?: true;
}

export function summarizeArgs(args: unknown, rules?: RedactRules): string {
  if (args === undefined || args === null) return '{}';
  const fields: [string, unknown][] =
    typeof args === 'object' && !Array.isArray(args) ? Object.entries(args) : [['_', args]];

  // Built entry by entry so the byte cap holds without re-serialising.
  let out = '{';
  let bytes = 2;
  let omitted = 0;
  for (const [name, value] of fields) {
    if (rules?.drop?.includes(name)) continue;
    const key = nameFacts(name);
    const entry = `${key.json}:${fieldJson(summarizeField(name, key.secret, value, rules))}`;
    const entryBytes = Buffer.byteLength(entry) + 1;
    // Keep room for the trailing `"_omitted":N` marker.
    if (bytes + entryBytes > MAX_SUMMARY_BYTES - 24) {
      omitted++;
      continue;
    }
    out += bytes > 2 ? `,${entry}` : entry;
    bytes += entryBytes;
  }
  if (omitted) out += `${bytes > 2 ? ',' : ''}"_omitted":${omitted}`;
  return `${out}}`;
}

interface NameFacts {
  /** The summary's key, as JSON. */
  json: string;
  /** The name alone marks the value secret. */
  secret: boolean;
}

/**
 * Per field name, what the summary derives from the name alone. A tool's
 * calls repeat the same few names, and looksLikeSecret(name) runs a dozen
 * patterns: remembered instead of re-run per call (µs per field on the hot
 * path). Names are client input, so the cache is bounded (later names are
 * computed each time) and keeps no name that looks like a secret.
 */
const knownNames = new Map<string, NameFacts>();
const MAX_KNOWN_NAMES = 1024;

function nameFacts(name: string): NameFacts {
  const known = knownNames.get(name);
  if (known) return known;
  const key = safeKey(name);
  const facts = { json: JSON.stringify(key), secret: SECRET_FIELD_NAME.test(name) };
  if (key === name && knownNames.size < MAX_KNOWN_NAMES) knownNames.set(name, facts);
  return facts;
}

/** Field names are data too: a secret-looking one is replaced by its hash. */
function safeKey(name: string): string {
  return looksLikeSecret(name) ? `redacted_key_${hash8(name)}` : name.slice(0, MAX_KEY_CHARS);
}

function summarizeField(name: string, secretName: boolean, value: unknown, rules?: RedactRules): FieldSummary {
  const type = typeOf(value);
  const summary: FieldSummary = { type, len: lengthOf(value, type) };
  const secret = secretName || containsSecret(value);
  if (!secret && rules?.allow?.includes(name) && isScalar(type)) {
    summary.value = type === 'string' ? (value as string).slice(0, MAX_VALUE_CHARS) : (value as number | boolean | null);
    return summary;
  }
  summary.sha256_8 = hash8(canonicalJson(value));
  if (secret) summary.secret = true;
  return summary;
}

/**
 * JSON.stringify(summary), written out for the summary's fixed shape (key
 * order type, len, then value or sha256_8 and secret, as summarizeField sets
 * them). `value` still goes through JSON.stringify (escaping, NaN → null).
 */
function fieldJson(f: FieldSummary): string {
  let out = `{"type":"${f.type}","len":${f.len}`;
  if (f.sha256_8 !== undefined) out += `,"sha256_8":"${f.sha256_8}"`;
  if ('value' in f) out += `,"value":${JSON.stringify(f.value)}`;
  if (f.secret) out += ',"secret":true';
  return `${out}}`;
}

function typeOf(value: unknown): ValueType {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  const t = typeof value;
  if (t === 'string' || t === 'number' || t === 'boolean' || t === 'undefined') return t;
  if (t === 'bigint') return 'number';
  return 'object';
}

function isScalar(type: ValueType): boolean {
  return type === 'string' || type === 'number' || type === 'boolean' || type === 'null';
}

function lengthOf(value: unknown, type: ValueType): number {
  switch (type) {
    case 'string':
      return (value as string).length;
    case 'array':
      return (value as unknown[]).length;
    case 'object':
      return Object.keys(value as object).length;
    case 'number':
      return String(value).length;
    default:
      return 0;
  }
}

/** Deep scan of strings (and object keys) for secret-looking content. */
function containsSecret(value: unknown, depth = 0): boolean {
  if (typeof value === 'string') return looksLikeSecret(value);
  if (depth > 8 || value === null || typeof value !== 'object') return false;
  if (Array.isArray(value)) return value.some((v) => containsSecret(v, depth + 1));
  for (const [k, v] of Object.entries(value)) {
    if (SECRET_FIELD_NAME.test(k) || looksLikeSecret(k) || containsSecret(v, depth + 1)) return true;
  }
  return false;
}

/** JSON with sorted object keys, so equal values hash equally. */
export function canonicalJson(value: unknown): string {
  if (value === undefined) return 'null';
  if (typeof value === 'bigint') return JSON.stringify(value.toString());
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const keys = Object.keys(value).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`).join(',')}}`;
}

function hash8(s: string): string {
  return sha256Hex(s).slice(0, 8);
}
