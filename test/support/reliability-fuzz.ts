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
