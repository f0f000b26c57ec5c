/**
 * The line walk shared by the NDJSON processors: each non-blank line (a
 * trailing `\r` removed) with its 1-based line number, for error messages.
 */
function* ndjsonLines(text: string): Generator<[line: string, lineNo: number, more: boolean]> {
  let lineNo = 0;
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    lineNo++;
    let line = text.slice(start, end);
    start = end + 1;
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (line.trim() === '') continue;
    yield [line, lineNo, start < text.length];
  }
}

export function forEachNdjsonLine(text: string, fn: (line: string, lineNo: number) => void): void {
  for (const [line, lineNo] of ndjsonLines(text)) fn(line, lineNo);
}

/**
 * forEachNdjsonLine that hands the event loop back every `yieldEvery` lines
 * (setImmediate), so a large body does not hold up the writer's insert
 * continuations and other requests for its whole validation.
 */
export async function forEachNdjsonLineAsync(text: string, fn: (line: string, lineNo: number) => void, yieldEvery = 1000): Promise<void> {
  let sinceYield = 0;
  for (const [line, lineNo, more] of ndjsonLines(text)) {
    fn(line, lineNo);
    if (++sinceYield >= yieldEvery && more) {
      sinceYield = 0;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }
}
