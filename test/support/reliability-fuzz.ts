/** A small seeded mutation fuzzer: deterministic, so a failure names a seed that reproduces it. */
export function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    // xorshift32
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 0x1_0000_0000;
  };
}

const INTERESTING = ['', '\u0000', '\ud800', '"', '\\', '{', '}', '[', ']', ',', ':', 'null', 'true', '-1', '1e309', '9'.repeat(40), '\n', '\r\n', '💥', "'; DROP TABLE x; --", '{{tenant:String}}', '%00', '../'];

/** One random edit of `input`: flip, insert, delete, duplicate or splice an interesting token. */
export function mutateText(input: string, random: () => number): string {
  const pos = Math.floor(random() * (input.length + 1));
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)]!;
  switch (Math.floor(random() * 6)) {
    case 0:
      return input.slice(0, pos) + String.fromCharCode(Math.floor(random() * 128)) + input.slice(pos + 1);
    case 1:
      return input.slice(0, pos) + pick(INTERESTING) + input.slice(pos);
    case 2:
      return input.slice(0, pos) + input.slice(pos + 1 + Math.floor(random() * 16));
    case 3: {
      const end = Math.min(input.length, pos + Math.floor(random() * 64));
      return input.slice(0, end) + input.slice(pos, end) + input.slice(end);
    }
    case 4:
      return input.slice(0, pos);
    default:
      return input.replace(/"[^"]*"/, () => JSON.stringify(pick(INTERESTING)));
  }
}

export function mutateBytes(input: Uint8Array, random: () => number): Buffer {
  const out = Buffer.from(input);
  const edits = 1 + Math.floor(random() * 4);
  let buf = out;
  for (let e = 0; e < edits; e++) {
    const pos = Math.floor(random() * Math.max(1, buf.length));
    switch (Math.floor(random() * 4)) {
      case 0:
        if (buf.length) buf[pos] = Math.floor(random() * 256);
        break;
      case 1:
        buf = Buffer.concat([buf.subarray(0, pos), Buffer.from([Math.floor(random() * 256), Math.floor(random() * 256)]), buf.subarray(pos)]);
        break;
      case 2:
        buf = buf.subarray(0, pos);
        break;
      default:
        buf = Buffer.concat([buf.subarray(0, pos), Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f]), buf.subarray(pos)]);
    }
  }
  return buf;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonPath = (string | number)[];

/** Every path in a JSON document, the root ([]) included, parents before children. */
export function jsonPaths(doc: unknown, prefix: JsonPath = []): JsonPath[] {
  const paths: JsonPath[] = [prefix];
  if (Array.isArray(doc)) doc.forEach((v, i) => paths.push(...jsonPaths(v, [...prefix, i])));
  else if (doc !== null && typeof doc === 'object') for (const [k, v] of Object.entries(doc)) paths.push(...jsonPaths(v, [...prefix, k]));
  return paths;
}

const typeOf = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

/** One value of each JSON type, for type confusion: what a field holds swapped for another type. */
const OTHER_TYPES: readonly Json[] = [null, 0, -1.5, 9007199254740993, '', 'x', '123', true, false, [], [null], {}, { stringValue: 'x' }];

/** `doc` with the value at `path` replaced (a copy; `doc` is not changed). */
export function replaceAt(doc: unknown, path: JsonPath, value: unknown): unknown {
  if (path.length === 0) return value;
  const copy = structuredClone(doc) as Record<string | number, unknown>;
  let node = copy;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  node[path[path.length - 1]!] = value;
  return copy;
}

/**
 * Type confusions of `doc`: for each path, its value swapped for each value of another JSON type,
 * or with `perPath`, for that many of them, taken in rotation so every type still comes up.
 */
export function* typeConfusions(doc: unknown, perPath = Infinity): Generator<{ path: JsonPath; value: unknown; doc: unknown }> {
  let turn = 0;
  for (const path of jsonPaths(doc)) {
    let current: unknown = doc;
    for (const key of path) current = (current as Record<string | number, unknown>)[key];
    const others = OTHER_TYPES.filter((value) => typeOf(value) !== typeOf(current));
    const n = Math.min(perPath, others.length);
    for (let k = 0; k < n; k++) {
      const value = others[(turn + k) % others.length]!;
      yield { path, value, doc: replaceAt(doc, path, value) };
    }
    turn += n;
  }
}

/** One random type confusion (mutates and returns `doc`). */
export function mutateType(doc: unknown, random: () => number): unknown {
  const paths = jsonPaths(doc);
  const path = paths[Math.floor(random() * paths.length)]!;
  const value = OTHER_TYPES[Math.floor(random() * OTHER_TYPES.length)]!;
  if (path.length === 0) return value;
  let node = doc as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  node[path[path.length - 1]!] = value;
  return doc;
}

/**
 * The JSON text of `doc` with the value at a random path wrapped `depth` levels deep, as
 * arrays, objects or OTLP AnyValue arrays (built as text: JSON.stringify would recurse).
 */
export function mutateDepth(doc: unknown, random: () => number, depth = 2 + Math.floor(random() * 5000)): string {
  const paths = jsonPaths(doc);
  const path = paths[Math.floor(random() * paths.length)]!;
  const marker = '"\u0000deep\u0000"';
  let inner: unknown = doc;
  for (const key of path) inner = (inner as Record<string | number, unknown>)[key];
  const [open, close] = [
    ['[', ']'],
    ['{"a":', '}'],
    ['{"arrayValue":{"values":[', ']}}'],
    ['{"kvlistValue":{"values":[{"key":"k","value":', '}]}}'],
  ][Math.floor(random() * 4)]!;
  const wrapped = open.repeat(depth) + JSON.stringify(inner ?? null) + close.repeat(depth);
  return JSON.stringify(replaceAt(doc, path, '\u0000deep\u0000')).replace(marker, () => wrapped);
}
