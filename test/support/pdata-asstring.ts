/**
 * The oracle for the AsString differential test: pdata's Value.AsString
 * (go.opentelemetry.io/collector/pdata pcommon/value.go) written out step by
 * step from the Go source, deliberately unlike the collector's own
 * implementation (otlp/any-value.ts): bytes-level UTF-8 string escaping as in
 * Go's encoding/json appendString, strconv.AppendFloat's 'f'/'e' layouts
 * built from the shortest digits, map keys compared as UTF-8 bytes. Slow and
 * plain on purpose.
 */
import type { AnyValue } from '../../packages/collector/src/collector/otlp/types.js';

type Raw = null | string | boolean | { int: bigint } | { double: number } | { bytes: Buffer } | Raw[] | Map<string, Raw>;

/** The Go string a JSON or protobuf decoder hands pdata: UTF-8, a lone surrogate read as U+FFFD. */
const goString = (s: string): Buffer => Buffer.from(s, 'utf8');

export function pdataAsString(v: AnyValue | undefined): string {
  const raw = asRaw(v);
  if (v === undefined || raw === null) return '';
  if (typeof raw === 'string') return goString(raw).toString('utf8');
  if (typeof raw === 'boolean') return raw ? 'true' : 'false';
  if (raw instanceof Map || Array.isArray(raw)) {
    // marshalJSONNoHTMLEscape: json.Encoder.Encode writes nothing when it fails; the error is ignored.
    try {
      return marshal(raw);
    } catch {
      return '';
    }
  }
  if ('int' in raw) return raw.int.toString(10);
  if ('double' in raw) return float64AsString(raw.double);
  return raw.bytes.toString('base64');
}

/** Value.AsRaw, with Go's types tagged. */
function asRaw(v: AnyValue | undefined): Raw {
  if (v === undefined) return null;
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.intValue !== undefined) return { int: BigInt(v.intValue) };
  if (v.doubleValue !== undefined) return { double: Number(v.doubleValue) };
  if (v.bytesValue !== undefined) return { bytes: typeof v.bytesValue === 'string' ? Buffer.from(v.bytesValue, 'base64') : Buffer.from(v.bytesValue) };
  if (v.arrayValue !== undefined) return (v.arrayValue.values ?? []).map(asRaw);
  if (v.kvlistValue !== undefined) {
    // Map.AsRaw: rawMap[k] = v.AsRaw() in order, so the last duplicate wins.
    const m = new Map<string, Raw>();
    for (const kv of v.kvlistValue.values ?? []) m.set(goString(kv.key ?? '').toString('utf8'), asRaw(kv.value));
    return m;
  }
  return null;
}

/** pdata float64AsString. */
function float64AsString(f: number): string {
  if (Number.isNaN(f)) return 'NaN';
  if (f === Infinity) return 'Infinity';
  if (f === -Infinity) return '-Infinity';
  return esFloat(f);
}

/** The ES6-like float layout shared by float64AsString and encoding/json's floatEncoder. */
function esFloat(f: number): string {
  const abs = Math.abs(f);
  const fmt = abs !== 0 && (abs < 1e-6 || abs >= 1e21) ? 'e' : 'f';
  let b = appendFloat(f, fmt);
  if (fmt === 'e') {
    // clean up e-09 to e-9
    const n = b.length;
    if (n >= 4 && b[n - 4] === 'e' && b[n - 3] === '-' && b[n - 2] === '0') b = b.slice(0, n - 2) + b[n - 1];
  }
  return b;
}

/** strconv.AppendFloat(nil, f, fmt, -1, 64): the shortest digits that round-trip, laid out as %f or %e. */
function appendFloat(f: number, fmt: 'e' | 'f'): string {
  const neg = f < 0 || Object.is(f, -0);
  // toExponential() without an argument gives the shortest round-trip digits d.ddd and the exponent.
  const [mantissa, exp] = Math.abs(f).toExponential().split('e') as [string, string];
  const d = mantissa.replace('.', '');
  const nd = d.length;
  const dp = Number(exp) + 1; // decimal point position, as Go's decimalSlice.dp
  let out = neg ? '-' : '';
  if (fmt === 'e') {
    out += d[0];
    const prec = nd - 1;
    if (prec > 0) out += '.' + d.slice(1);
    let e = dp - 1;
    if (d === '0') e = 0;
    out += 'e' + (e < 0 ? '-' : '+');
    e = Math.abs(e);
    out += e < 10 ? '0' + e : String(e);
    return out;
  }
  // %f: integer part, padded with zeros
  if (dp > 0) {
    let m = Math.min(nd, dp);
    out += d.slice(0, m);
    for (; m < dp; m++) out += '0';
  } else out += '0';
  const prec = Math.max(nd - dp, 0);
  if (prec > 0) {
    out += '.';
    for (let i = 1; i <= prec; i++) {
      const j = dp + i - 1;
      out += j < 0 || j >= nd ? '0' : d[j];
    }
  }
  return out;
}

/** encoding/json Marshal with SetEscapeHTML(false). */
function marshal(v: Raw): string {
  if (v === null) return 'null';
  if (typeof v === 'string') return appendString(goString(v));
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (Array.isArray(v)) return '[' + v.map(marshal).join(',') + ']';
  if (v instanceof Map) {
    // mapEncoder: keys sorted with strings.Compare (byte order).
    const keys = [...v.keys()].sort((a, b) => Buffer.compare(goString(a), goString(b)));
    return '{' + keys.map((k) => appendString(goString(k)) + ':' + marshal(v.get(k)!)).join(',') + '}';
  }
  if ('int' in v) return v.int.toString(10);
  if ('double' in v) {
    if (!Number.isFinite(v.double)) throw new Error('json: unsupported value');
    return esFloat(v.double);
  }
  return '"' + v.bytes.toString('base64') + '"';
}

const HEX = '0123456789abcdef';

/** encoding/json appendString over UTF-8 bytes, escapeHTML false. */
function appendString(src: Buffer): string {
  const out: number[] = [0x22];
  const push = (s: string) => out.push(...Buffer.from(s, 'latin1'));
  let i = 0;
  while (i < src.length) {
    const b = src[i]!;
    if (b < 0x80) {
      if (b >= 0x20 && b !== 0x22 && b !== 0x5c) out.push(b);
      else if (b === 0x5c || b === 0x22) out.push(0x5c, b);
      else if (b === 0x08) push('\\b');
      else if (b === 0x0c) push('\\f');
      else if (b === 0x0a) push('\\n');
      else if (b === 0x0d) push('\\r');
      else if (b === 0x09) push('\\t');
      else push('\\u00' + HEX[b >> 4] + HEX[b & 0xf]);
      i++;
      continue;
    }
    const size = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2;
    const rune = src.subarray(i, i + size).toString('utf8');
    if (rune === '\u2028' || rune === '\u2029') push('\\u202' + HEX[rune.charCodeAt(0) & 0xf]);
    else out.push(...src.subarray(i, i + size));
    i += size;
  }
  out.push(0x22);
  return Buffer.from(out).toString('utf8');
}
