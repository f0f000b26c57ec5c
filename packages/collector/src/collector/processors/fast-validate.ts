/**
 * A fast accept/reject test for CallRecords, compiled once from the zod
 * schemas in FIELDS (so it follows the record's fields without a second list
 * to maintain). The collector validates every ingested line; zod's generic
 * parse costs several µs per record, this plain predicate a fraction of one.
 *
 * Contract: `check(v)` is true exactly when `CallRecordSchema.safeParse(v)`
 * succeeds, for any value JSON.parse can produce; an accepted object gets the
 * defaults of absent fields filled in (as zod's output would have them). It only tells yes or no:
 * the collector still runs zod when the answer is no, for zod's error message
 * (and zod has the last word). Only the zod constructs the record uses are
 * compiled: string (with max/min length, counted in code points as zod does,
 * and pattern formats: regex, uuid,
 * datetime), number (min/max, safe integer), boolean, enum, literal, union,
 * array, default (an absent field is accepted; the column's DEFAULT fills it,
 * the same value zod would), and the strict object around them. Anything else makes
 * `compileCallRecordCheck()` return undefined, and the collector uses zod
 * alone, which is correct, only slower. A differential test holds the two
 * to the same answers.
 */
import { FIELDS, FIELD_NAMES, type CallRecord } from 'mcptrail/record';

type Check = (v: unknown) => boolean;

class Unsupported extends Error {}

/** String formats whose zod check is exactly `pattern.test(value)`. */
const PATTERN_FORMATS = new Set(['regex', 'uuid', 'datetime']);

interface ZodInternals {
  _zod: { def: Record<string, unknown> & { type: string; checks?: ZodInternals[] } };
}

function defOf(schema: unknown): ZodInternals['_zod']['def'] {
  const def = (schema as ZodInternals | undefined)?._zod?.def;
  if (!def || typeof def.type !== 'string') throw new Unsupported('not a zod schema');
  return def;
}

function lengthCheck(d: Record<string, unknown>): (n: number) => boolean {
  switch (d.check) {
    case 'max_length': {
      const max = d.maximum as number;
      return (n) => n <= max;
    }
    case 'min_length': {
      const min = d.minimum as number;
      return (n) => n >= min;
    }
    case 'length_equals': {
      const len = d.length as number;
      return (n) => n === len;
    }
    default:
      throw new Unsupported(`length check ${String(d.check)}`);
  }
}

/** zod measures strings in code points: a surrogate pair counts once, a lone surrogate as one. */
function codePointLength(str: string): number {
  const units = str.length;
  let count = units;
  for (let i = 0; i < units - 1; i++) {
    if ((str.charCodeAt(i) & 0xfc00) === 0xd800 && (str.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      count--;
      i++;
    }
  }
  return count;
}

function compileString(checks: ZodInternals[]): Check {
  const lengths: ((n: number) => boolean)[] = [];
  const patterns: RegExp[] = [];
  // With maximum-only checks, a string that fits in UTF-16 units fits in code points too (never more
  // code points than units): count code points only when the units overflow.
  let maxOnly = true;
  for (const c of checks) {
    const d = c._zod.def;
    if (d.check === 'string_format') {
      if (!PATTERN_FORMATS.has(d.format as string) || !(d.pattern instanceof RegExp)) throw new Unsupported(`string format ${String(d.format)}`);
      patterns.push(d.pattern);
    } else {
      lengths.push(lengthCheck(d));
      if (d.check !== 'max_length') maxOnly = false;
    }
  }
  const lengthOk = (v: string): boolean => {
    if (maxOnly) {
      let ok = true;
      for (const f of lengths) if (!f(v.length)) ok = false;
      if (ok) return true;
    }
    const n = codePointLength(v);
    for (const f of lengths) if (!f(n)) return false;
    return true;
  };
  return (v) => {
    if (typeof v !== 'string') return false;
    if (lengths.length && !lengthOk(v)) return false;
    for (const p of patterns) {
      p.lastIndex = 0;
      if (!p.test(v)) return false;
    }
    return true;
  };
}

function compileNumber(checks: ZodInternals[]): Check {
  let min = -Infinity;
  let minInclusive = true;
  let max = Infinity;
  let maxInclusive = true;
  let safeInt = false;
  for (const c of checks) {
    const d = c._zod.def;
    if (d.check === 'number_format') {
      if (d.format !== 'safeint') throw new Unsupported(`number format ${String(d.format)}`);
      safeInt = true;
    } else if (d.check === 'greater_than') {
      const value = d.value as number;
      if (value > min || (value === min && !d.inclusive)) {
        min = value;
        minInclusive = d.inclusive === true;
      }
    } else if (d.check === 'less_than') {
      const value = d.value as number;
      if (value < max || (value === max && !d.inclusive)) {
        max = value;
        maxInclusive = d.inclusive === true;
      }
    } else throw new Unsupported(`number check ${String(d.check)}`);
  }
  if (typeof min !== 'number' || typeof max !== 'number') throw new Unsupported('non-numeric bound');
  return (v) =>
    typeof v === 'number' &&
    Number.isFinite(v) &&
    (!safeInt || Number.isSafeInteger(v)) &&
    (minInclusive ? v >= min : v > min) &&
    (maxInclusive ? v <= max : v < max);
}

/** The predicate of one zod schema; throws Unsupported for anything it does not model exactly. */
function compile(schema: unknown): Check {
  const def = defOf(schema);
  if (def.coerce) throw new Unsupported('coercion');
  const checks = def.checks ?? [];
  switch (def.type) {
    case 'string':
      return compileString(checks);
    case 'number':
      return compileNumber(checks);
    case 'boolean':
      if (checks.length) throw new Unsupported('boolean checks');
      return (v) => typeof v === 'boolean';
    case 'enum': {
      if (checks.length) throw new Unsupported('enum checks');
      const values = new Set(Object.values(def.entries as Record<string, unknown>));
      return (v) => values.has(v);
    }
    case 'literal': {
      if (checks.length) throw new Unsupported('literal checks');
      const values = new Set(def.values as unknown[]);
      return (v) => values.has(v);
    }
    case 'union': {
      if (checks.length || def.inclusive === false) throw new Unsupported('union variant');
      const options = (def.options as unknown[]).map(compile);
      return (v) => options.some((o) => o(v));
    }
    case 'array': {
      const lengths = checks.map((c) => lengthCheck(c._zod.def));
      const element = compile(def.element);
      return (v) => {
        if (!Array.isArray(v)) return false;
        for (const f of lengths) if (!f(v.length)) return false;
        for (let i = 0; i < v.length; i++) if (!element(v[i])) return false;
        return true;
      };
    }
    case 'default': {
      // Only a JSON-producible absence (a missing key) takes the default; the value itself is checked as usual.
      if (checks.length) throw new Unsupported('default checks');
      const inner = compile(def.innerType);
      return (v) => v === undefined || inner(v);
    }
    default:
      throw new Unsupported(`zod type ${def.type}`);
  }
}

/** Fields declared with zod's `.default()`, and their (JSON) default values. */
function defaultsOf(): [string, unknown][] {
  const out: [string, unknown][] = [];
  for (const name of FIELD_NAMES) {
    const def = defOf(FIELDS[name].zod);
    if (def.type === 'default') out.push([name, def.defaultValue]);
  }
  return out;
}

/**
 * The compiled predicate for CallRecordSchema (strict object of FIELDS), or
 * undefined when some field uses a zod construct this compiler does not model.
 */
export function compileCallRecordCheck(): ((v: unknown) => v is CallRecord) | undefined {
  let checks: Check[];
  try {
    checks = FIELD_NAMES.map((k) => compile(FIELDS[k].zod));
  } catch (err) {
    if (err instanceof Unsupported) return undefined;
    throw err;
  }
  const names = FIELD_NAMES;
  const known = new Set<string>(names);
  const n = names.length;
  const defaults = defaultsOf();
  return (v: unknown): v is CallRecord => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
    const o = v as Record<string, unknown>;
    // Strict: every key must be a field (zod walks keys the same way, `for...in`).
    for (const key in o) if (!known.has(key)) return false;
    for (let i = 0; i < n; i++) if (!checks[i]!(o[names[i]!])) return false;
    // An accepted record holds what zod's parse would: absent defaulted fields filled in.
    for (const [name, value] of defaults) if (o[name] === undefined) o[name] = value;
    return true;
  };
}
