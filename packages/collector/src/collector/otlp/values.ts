/** Ids and times of OTLP data as the exporter's columns hold them, shared by the span and metric row mappers. */
import type { Bytes, Int64 } from './types.js';

/** A span or data point the store cannot hold; the rest of its request is kept (OTLP partial success). */
export class RowRejected extends Error {
  override readonly name = 'RowRejected';
}

/**
 * Ids: OTLP/JSON carries them as hex; protobuf as bytes. Base64 is accepted
 * too (proto3 JSON's encoding of bytes). Absent, empty or all-zero is `''`
 * (pdata's TraceID/SpanID String() of an empty id, which the exporter
 * stores); a malformed id is `undefined`.
 */
export function idToHex(id: Bytes | undefined, size: 8 | 16): string | undefined {
  if (id === undefined || id.length === 0) return '';
  let hex: string | undefined;
  if (typeof id !== 'string') hex = id.length === size ? Buffer.from(id.buffer, id.byteOffset, id.byteLength).toString('hex') : undefined;
  else if (id.length === size * 2 && /^[0-9a-fA-F]+$/.test(id)) hex = id.toLowerCase();
  else {
    const bytes = Buffer.from(id, 'base64');
    hex = bytes.length === size ? bytes.toString('hex') : undefined;
  }
  return hex !== undefined && ALL_ZERO.test(hex) ? '' : hex;
}

const ALL_ZERO = /^0+$/;

/** DateTime64(9) ends in 2262 (signed 64-bit nanoseconds); OTLP times are unsigned. */
export const MAX_DATETIME64_NANOS = 9_223_372_036_854_775_807n;
/** DateTime (UInt32 seconds) ends 2106-02-07 06:28:15; the engine clamps later values silently. */
export const MAX_DATETIME_NANOS = 4_294_967_295_999_999_999n;

/** An OTLP time (validated unsigned 64-bit) in ns, refused when the column cannot hold it. */
export function toNanos(value: Int64 | undefined, max: bigint, what: string): bigint {
  if (value === undefined || value === 0 || value === '' || value === '0') return 0n;
  const nanos = BigInt(value);
  // Out of range would fail (DateTime64) or silently clamp (DateTime) the row: reject the row alone.
  if (nanos > max) throw new RowRejected(`${what} has a timestamp after ${max === MAX_DATETIME_NANOS ? '2106' : '2262'}`);
  return nanos;
}

/**
 * `1714557600123456789n` → `"2024-05-01 10:00:00.123456789"`, which DateTime64(9) parses exactly
 * and DateTime truncates to the second. (The `seconds.fraction` form fails for small values: the
 * engine reads them as dates.)
 */
export function nanosToDateTime64(nanos: bigint): string {
  const seconds = nanos / 1_000_000_000n;
  const fraction = (nanos % 1_000_000_000n).toString().padStart(9, '0');
  return `${new Date(Number(seconds) * 1000).toISOString().slice(0, 19).replace('T', ' ')}.${fraction}`;
}

/** Seconds only, for the DateTime columns of the metrics tables. */
export function nanosToDateTime(nanos: bigint): string {
  return new Date(Number(nanos / 1_000_000_000n) * 1000).toISOString().slice(0, 19).replace('T', ' ');
}
