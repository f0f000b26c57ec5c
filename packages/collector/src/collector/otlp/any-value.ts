/**
 * Attribute values as the OpenTelemetry Collector ClickHouse exporter stores
 * them: pdata's `Value.AsString()` (go.opentelemetry.io/collector/pdata,
 * pcommon/value.go), and attribute maps in the exporter's key order.
 *
 * AsString, by value type:
 * - string as is; bool `true`/`false`; int decimal;
 * - double like ES6 Number-to-string (Go's float64AsString): shortest
 *   round-trip digits, an exponent below 1e-6 and from 1e21 (`1e+21`, `9e-9`),
 *   `NaN`, `Infinity`, `-Infinity`, and `-0` for negative zero;
 * - bytes as standard padded base64;
 * - arrays and kvlists as Go encoding/json writes their raw form: kvlist keys
 *   sorted (byte order, last duplicate wins), no HTML escaping, U+2028/U+2029
 *   escaped, ints exact at any size, an empty value as `null`, floats as
 *   above; a NaN or infinity anywhere inside makes the whole value `""` (the
 *   encoder fails and AsString ignores the error).
 *
 * The exporter collects attribute maps through clickhouse-go's orderedmap,
 * which sorts the keys (byte order), so a stored Map's keys are sorted.
 * Strings decoded from JSON with a lone surrogate read as U+FFFD, as Go's
 * JSON decoder reads them.
 */
import type { AnyValue, Bytes, Int64, KeyValue } from './types.js';

/** pdata's Value.AsString. */
export function anyValueToString(value: AnyValue | undefined): string {
  return wellFormed(asString(value));
}

/** AsString without the lone-surrogate repair, which the row writer applies to the whole row (wellFormedJson). */
function asString(value: AnyValue | undefined): string {
  if (value === undefined) return '';
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.boolValue !== undefined) return value.boolValue ? 'true' : 'false';
  if (value.intValue !== undefined) return int64String(value.intValue);
  if (value.doubleValue !== undefined) return doubleString(value.doubleValue);
  if (value.bytesValue !== undefined) return bytesToBase64(value.bytesValue);
  if (value.arrayValue !== undefined || value.kvlistValue !== undefined) {
    try {
      return rawJson(value);
    } catch (err) {
      if (err === UNSUPPORTED) return '';
      throw err;
    }
  }
  return '';
}

/**
 * An attribute list as the JSON object text of a ClickHouse
 * `Map(LowCardinality(String), String)`, keys in the exporter's order
 * (sorted; duplicates kept, in their input order). The engine keeps a Map's
 * key order, so the text is a JS object's JSON only when that object keeps
 * the order too: no integer-like key (a JS object puts those first) and no
 * duplicate.
 */
export function attributesJson(attributes: KeyValue[] | undefined): string {
  const n = attributes === undefined ? 0 : attributes.length;
  if (n === 0) return '{}';
  if (n === 1) return `{${JSON.stringify(attributes![0]!.key ?? '')}:${JSON.stringify(asString(attributes![0]!.value))}}`;
  const entries = new Array<{ key: string; value: string }>(n);
  let plain = true;
  for (let i = 0; i < n; i++) {
    const kv = attributes![i]!;
    const key = kv.key ?? '';
    if (plain && INDEX_LIKE.test(key)) plain = false;
    entries[i] = { key, value: asString(kv.value) };
  }
  sortByKey(entries);
  for (let i = 1; plain && i < n; i++) if (entries[i]!.key === entries[i - 1]!.key) plain = false;
  if (plain) {
    const object: Record<string, string> = {};
    for (let i = 0; i < n; i++) object[entries[i]!.key] = entries[i]!.value;
    return JSON.stringify(object);
  }
  let out = '{';
  for (let i = 0; i < n; i++) out += `${i === 0 ? '' : ','}${JSON.stringify(entries[i]!.key)}:${JSON.stringify(entries[i]!.value)}`;
  return out + '}';
}

/** Keys a JS object orders numerically before the others (canonical array indices), and `__proto__`. */
const INDEX_LIKE = /^(?:0|[1-9]\d{0,9}|__proto__)$/;

/** `attributesJson` as an ordered list of pairs (what the engine stores). */
export function attributePairs(attributes: KeyValue[] | undefined): [string, string][] {
  const entries = (attributes ?? []).map((kv) => ({ key: kv.key ?? '', value: asString(kv.value) }));
  sortByKey(entries);
  return entries.map((e) => [wellFormed(e.key), wellFormed(e.value)]);
}

/** The service name as the exporter reads it: `service.name` of the resource, AsString. */
export function serviceNameOf(attributes: KeyValue[] | undefined): string {
  if (attributes) for (const kv of attributes) if (kv.key === 'service.name') return asString(kv.value);
  return '';
}

/** Stable sort by key in UTF-8 byte (code point) order, skipping the work when already sorted. */
function sortByKey(entries: { key: string }[]): void {
  let sorted = true;
  let astral = false;
  for (let i = 0; i < entries.length; i++) {
    const key = entries[i]!.key;
    if (!astral && HIGH_UNITS.test(key)) astral = true;
    if (i > 0 && sorted && entries[i - 1]!.key > key) sorted = false;
  }
  // UTF-16 order equals code point order unless surrogates meet U+E000..U+FFFF.
  if (astral) entries.sort((a, b) => compareCodePoints(wellFormed(a.key), wellFormed(b.key)));
  else if (!sorted) entries.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

const HIGH_UNITS = /[\ud800-\uffff]/;

function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return x >= 0xd800 && y >= 0xd800 ? rank(x) - rank(y) : x - y;
  }
  return a.length - b.length;
}

/** Surrogates (code points above U+FFFF) rank after U+E000..U+FFFF, as in UTF-8. */
function rank(unit: number): number {
  return unit >= 0xe000 ? unit - 0x800 : unit <= 0xdfff ? unit + 0x2000 : unit;
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** Lone surrogates as U+FFFD, as a UTF-8 decoder (and Go's JSON decoder) reads them. */
export function wellFormed(s: string): string {
  return /[\ud800-\udfff]/.test(s) ? s.replace(LONE_SURROGATE, '\ufffd') : s;
}

/** Thrown inside rawJson when Go's encoder would fail (NaN, ±Inf). */
const UNSUPPORTED = Symbol('unsupported by encoding/json');

/** Go's `json.Marshal(v.AsRaw())` with HTML escaping off. */
function rawJson(value: AnyValue | undefined): string {
  if (value === undefined) return 'null';
  if (value.stringValue !== undefined) return goJsonString(value.stringValue);
  if (value.boolValue !== undefined) return value.boolValue ? 'true' : 'false';
  if (value.intValue !== undefined) return int64String(value.intValue);
  if (value.doubleValue !== undefined) {
    if (!Number.isFinite(value.doubleValue)) throw UNSUPPORTED;
    return doubleString(value.doubleValue);
  }
  if (value.bytesValue !== undefined) return `"${bytesToBase64(value.bytesValue)}"`;
  if (value.arrayValue !== undefined) {
    const values = value.arrayValue.values ?? [];
    let out = '[';
    for (let i = 0; i < values.length; i++) out += (i === 0 ? '' : ',') + rawJson(values[i]);
    return out + ']';
  }
  if (value.kvlistValue !== undefined) {
    // A Go map: the last of duplicate keys wins, keys are written sorted.
    const byKey = new Map<string, AnyValue | undefined>();
    for (const kv of value.kvlistValue.values ?? []) byKey.set(wellFormed(kv.key ?? ''), kv.value);
    const keys = [...byKey.keys()].sort(compareCodePoints);
    let out = '{';
    for (let i = 0; i < keys.length; i++) out += `${i === 0 ? '' : ','}${goJsonString(keys[i]!)}:${rawJson(byKey.get(keys[i]!))}`;
    return out + '}';
  }
  return 'null';
}

const NEEDS_ESCAPE = /["\\\u0000-\u001f\u2028\u2029\ud800-\udfff]/;

/** A string as Go's encoding/json writes it with SetEscapeHTML(false). */
function goJsonString(s: string): string {
  if (!NEEDS_ESCAPE.test(s)) return `"${s}"`;
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x22) out += '\\"';
    else if (c === 0x5c) out += '\\\\';
    else if (c < 0x20) out += CONTROL_ESCAPES[c] ?? `\\u00${c.toString(16).padStart(2, '0')}`;
    else if (c === 0x2028 || c === 0x2029) out += `\\u${c.toString(16)}`;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && s.charCodeAt(i + 1) >= 0xdc00 && s.charCodeAt(i + 1) <= 0xdfff) {
      out += s[i]! + s[i + 1]!;
      i++;
    } else if (c >= 0xd800 && c <= 0xdfff) out += '\ufffd';
    else out += s[i]!;
  }
  return out + '"';
}

const CONTROL_ESCAPES: Record<number, string> = { 0x08: '\\b', 0x09: '\\t', 0x0a: '\\n', 0x0c: '\\f', 0x0d: '\\r' };

/** Go's strconv.FormatInt(v, 10) of an int64 given as a JSON number or a decimal string. */
export function int64String(value: Int64): string {
  if (typeof value === 'number') return Object.is(value, -0) ? '0' : String(value);
  return /^(?:0|-?[1-9]\d*)$/.test(value) ? value : BigInt(value).toString();
}

/** Go's float64AsString (pdata), which equals ES6 Number-to-string except for negative zero. */
export function doubleString(value: number): string {
  return Object.is(value, -0) ? '-0' : String(value);
}

export function bytesToBase64(bytes: Bytes): string {
  // OTLP/JSON carries bytes as base64 (standard or URL-safe, padding optional): normalise to standard padded.
  const buffer = typeof bytes === 'string' ? Buffer.from(bytes, 'base64') : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return buffer.toString('base64');
}
