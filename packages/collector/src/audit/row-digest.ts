/**
 * The canonical digest of one `tool_calls` row, the unit of the tamper-evidence
 * ledger: SHA-256 of the row's ClickHouse RowBinary encoding (the engine's own,
 * documented binary row format) over the columns a ledger entry covers, in
 * column order, truncated to 128 bits.
 *
 * Two implementations of one definition, held equal by the tests:
 * - the collector encodes the validated record in JS at ingest (no read-back
 *   query per batch), after `normalizeForStore` made every value exactly what
 *   the engine stores (milliseconds for DateTime64(3), float32 for Float32);
 * - `mcptrail verify` lets the engine recompute it from the stored values with
 *   `SHA256(formatRow('RowBinary', ...))`, so nothing is lost in a JSON round trip.
 *
 * Columns added by later migrations: an entry records the schema version it
 * covers (`LEDGER_COLUMNS_VERSION` when written = the highest `since` in
 * FIELDS), and `columnsFor(version)` names the same columns forever after,
 * because FIELDS only ever grows at the end.
 */
import { FIELDS, FIELD_NAMES, fieldSince, type CallRecord, type FieldName } from 'mcptrail/record';
import { sha256Digest, sha256Hex } from 'mcptrail/crypto';

/** Bytes of a row digest (SHA-256 truncated to 128 bits). */
export const ROW_DIGEST_BYTES = 16;

/** The schema version ledger entries written by this build cover: the newest column's migration. */
export const LEDGER_COLUMNS_VERSION = Math.max(...FIELD_NAMES.map((k) => fieldSince(k)));

/** The columns an entry of `version` covers, in table order. */
export function columnsFor(version: number): FieldName[] {
  if (!Number.isInteger(version) || version < 1) throw new RangeError(`ledger columns version must be a positive integer (got ${version})`);
  if (version > LEDGER_COLUMNS_VERSION) throw new RangeError(`ledger entry covers columns of schema version ${version}, newer than this build knows (${LEDGER_COLUMNS_VERSION}): upgrade mcptrail to verify it`);
  return FIELD_NAMES.filter((k) => fieldSince(k) <= version);
}

/** The engine-side expression of the same digest, as a FixedString(16). */
export function rowDigestSql(version: number): string {
  return `substring(SHA256(formatRow('RowBinary', ${columnsFor(version).join(', ')})), 1, ${ROW_DIGEST_BYTES})`;
}

type Encoder = (value: unknown, out: ByteSink) => void;
type Normalizer = (value: unknown) => unknown;

interface ColumnCodec {
  encode: Encoder;
  /** Makes a record value exactly what the column stores (identity for most types). */
  normalize?: Normalizer;
}

/** Parses a FIELDS `ch` type (codec stripped) into its RowBinary codec; throws on a type it cannot encode. */
export function codecFor(chType: string): ColumnCodec {
  const type = stripCodec(chType);
  const inner = (prefix: string) => (type.startsWith(prefix + '(') && type.endsWith(')') ? type.slice(prefix.length + 1, -1) : undefined);
  const lc = inner('LowCardinality');
  if (lc !== undefined) return codecFor(lc);
  const array = inner('Array');
  if (array !== undefined) {
    const item = codecFor(array);
    return {
      encode: (v, out) => {
        const items = v as unknown[];
        out.varint(items.length);
        for (const x of items) item.encode(x, out);
      },
      normalize: item.normalize ? (v) => (v as unknown[]).map(item.normalize!) : undefined,
    };
  }
  const dt64 = /^DateTime64\((\d)(?:,\s*'[^']*')?\)$/.exec(type);
  if (dt64) {
    const precision = Number(dt64[1]);
    if (precision !== 3) throw new TypeError(`ledger digest: DateTime64(${precision}) is not supported (only milliseconds)`);
    return {
      encode: (v, out) => out.int64Number(Date.parse(v as string)),
      normalize: (v) => new Date(Date.parse(v as string)).toISOString(),
    };
  }
  switch (type) {
    case 'String':
      return { encode: (v, out) => out.string(v as string) };
    case 'UUID':
      return { encode: (v, out) => out.uuid(v as string) };
    case 'Bool':
    case 'UInt8':
      return { encode: (v, out) => out.uint(Number(v), 1) };
    case 'UInt16':
      return { encode: (v, out) => out.uint(v as number, 2) };
    case 'UInt32':
      return { encode: (v, out) => out.uint(v as number, 4) };
    case 'UInt64':
      return { encode: (v, out) => out.int64(BigInt(v as number)) };
    case 'Float32':
      return { encode: (v, out) => out.float32(v as number), normalize: (v) => Math.fround(v as number) };
    case 'Float64':
      return { encode: (v, out) => out.float64(v as number) };
    default:
      throw new TypeError(`ledger digest: no RowBinary encoder for ClickHouse type ${type}: add one in audit/row-digest.ts`);
  }
}

/** The type alone: a column definition may go on with `DEFAULT …`, `MATERIALIZED …` or `CODEC(…)`. */
function stripCodec(chType: string): string {
  const m = /\s(?:DEFAULT|MATERIALIZED|ALIAS|EPHEMERAL|CODEC\()/.exec(chType);
  return (m ? chType.slice(0, m.index) : chType).trim();
}

const CODECS: Record<FieldName, ColumnCodec> = Object.fromEntries(FIELD_NAMES.map((k) => [k, codecFor(FIELDS[k].ch)])) as Record<FieldName, ColumnCodec>;
const NORMALIZED = FIELD_NAMES.filter((k) => CODECS[k].normalize !== undefined);
const CURRENT_COLUMNS = columnsFor(LEDGER_COLUMNS_VERSION);
/** One encoding buffer, reused (created on first use: the class is declared below). */
let scratch: ByteSink | undefined;

/**
 * The record as the engine will store it (in place): DateTime64(3) values as
 * millisecond UTC strings, Float32 values rounded to float32. Sent as such,
 * the stored value is exactly the digested one.
 */
export function normalizeForStore(record: CallRecord): CallRecord {
  const r = record as unknown as Record<string, unknown>;
  for (const k of NORMALIZED) r[k] = CODECS[k].normalize!(r[k]);
  return record;
}

/** The RowBinary encoding of a (normalized) record's covered columns (a fresh copy). */
export function encodeRowBinary(record: CallRecord, version = LEDGER_COLUMNS_VERSION): Buffer {
  return Buffer.from(encodeInto((scratch ??= new ByteSink()), record, version));
}

/** The row digest of a (normalized) record. */
export function rowDigest(record: CallRecord, version = LEDGER_COLUMNS_VERSION): Buffer {
  // Encoded into one reused buffer: this runs for every ingested record.
  return sha256Digest(encodeInto((scratch ??= new ByteSink()), record, version)).subarray(0, ROW_DIGEST_BYTES);
}

/** rowDigest as lower-case hex, what the ledger stores: the hash's own hex output, cut (cheaper than Buffer → hex per row). */
export function rowDigestHex(record: CallRecord, version = LEDGER_COLUMNS_VERSION): string {
  return sha256Hex(encodeInto((scratch ??= new ByteSink()), record, version)).slice(0, ROW_DIGEST_BYTES * 2);
}

function encodeInto(out: ByteSink, record: CallRecord, version: number): Buffer {
  out.reset();
  const r = record as unknown as Record<string, unknown>;
  for (const k of version === LEDGER_COLUMNS_VERSION ? CURRENT_COLUMNS : columnsFor(version)) CODECS[k].encode(r[k], out);
  return out.bytes();
}

const HEX32 = /^[0-9a-fA-F]{32}$/;
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Hex digit values by char code (-1: not a hex digit). */
const HEX_VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < 16; i++) {
  HEX_VALUE['0123456789abcdef'.charCodeAt(i)] = i;
  HEX_VALUE['0123456789ABCDEF'.charCodeAt(i)] = i;
}
const TWO_32 = 2 ** 32;

/**
 * A growable little-endian byte buffer for RowBinary. It runs once per ingested record, so the common
 * cases are written byte by byte in JS (ASCII strings, small integers, UUIDs): a native Buffer call
 * per field cost more than the encoding itself.
 */
class ByteSink {
  private buf = Buffer.allocUnsafe(4096);
  private len = 0;
  private readonly f32 = new Float32Array(1);
  private readonly f32Bytes = new Uint8Array(this.f32.buffer);

  reset(): void {
    this.len = 0;
  }

  private room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.len + n));
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }

  varint(n: number): void {
    this.room(10);
    let v = n;
    while (v >= 0x80) {
      this.buf[this.len++] = (v & 0x7f) | 0x80;
      v = Math.floor(v / 128);
    }
    this.buf[this.len++] = v;
  }

  string(s: string): void {
    const n = s.length;
    // ASCII (the usual case): one byte per UTF-16 unit, written directly.
    if (n < 128) {
      this.room(n + 1);
      const buf = this.buf;
      let at = this.len + 1;
      let i = 0;
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        buf[at++] = c;
      }
      if (i === n) {
        buf[this.len] = n;
        this.len = at;
        return;
      }
    }
    const bytes = Buffer.byteLength(s, 'utf8');
    this.varint(bytes);
    this.room(bytes);
    this.len += this.buf.write(s, this.len, 'utf8');
  }

  uint(v: number, bytes: 1 | 2 | 4): void {
    this.room(bytes);
    if (!Number.isInteger(v) || v < 0 || v >= 2 ** (8 * bytes)) {
      // Out of range: the same RangeError as before.
      this.len = this.buf.writeUIntLE(v, this.len, bytes);
      return;
    }
    const buf = this.buf;
    buf[this.len++] = v & 0xff;
    if (bytes === 1) return;
    buf[this.len++] = (v >>> 8) & 0xff;
    if (bytes === 2) return;
    buf[this.len++] = (v >>> 16) & 0xff;
    buf[this.len++] = (v >>> 24) & 0xff;
  }

  int64(v: bigint): void {
    this.room(8);
    this.len = this.buf.writeBigInt64LE(v, this.len);
  }

  /** A signed 64-bit integer given as a safe-integer number (epoch milliseconds), without a BigInt. */
  int64Number(v: number): void {
    if (!Number.isSafeInteger(v)) return this.int64(BigInt(v));
    this.room(8);
    const high = Math.floor(v / TWO_32);
    const low = v - high * TWO_32;
    this.buf.writeUInt32LE(low, this.len);
    this.buf.writeInt32LE(high, this.len + 4);
    this.len += 8;
  }

  float32(v: number): void {
    this.room(4);
    this.f32[0] = v;
    const b = this.f32Bytes;
    const buf = this.buf;
    // Float32Array holds the platform's byte order; RowBinary is little-endian.
    if (LITTLE_ENDIAN) {
      buf[this.len++] = b[0]!;
      buf[this.len++] = b[1]!;
      buf[this.len++] = b[2]!;
      buf[this.len++] = b[3]!;
    } else this.len = buf.writeFloatLE(v, this.len);
  }

  float64(v: number): void {
    this.room(8);
    this.len = this.buf.writeDoubleLE(v, this.len);
  }

  /** ClickHouse's UUID layout: the high and the low 64-bit halves, each little-endian. */
  uuid(s: string): void {
    const hex = s.length === 36 ? s.slice(0, 8) + s.slice(9, 13) + s.slice(14, 18) + s.slice(19, 23) + s.slice(24) : s;
    if (!HEX32.test(hex)) throw new TypeError('ledger digest: not a UUID');
    this.room(16);
    const buf = this.buf;
    // Byte i of the UUID is hex digits 2i, 2i+1; each half is written least significant byte first.
    for (let i = 7; i >= 0; i--) buf[this.len++] = (HEX_VALUE[hex.charCodeAt(2 * i)]! << 4) | HEX_VALUE[hex.charCodeAt(2 * i + 1)]!;
    for (let i = 15; i >= 8; i--) buf[this.len++] = (HEX_VALUE[hex.charCodeAt(2 * i)]! << 4) | HEX_VALUE[hex.charCodeAt(2 * i + 1)]!;
  }

  bytes(): Buffer {
    return this.buf.subarray(0, this.len);
  }
}
