/**
 * The line walk shared by the NDJSON processors: each non-blank line (a
 * trailing `\r` removed) with its 1-based line number, for error messages.
 */
export function forEachNdjsonLine(text: string, fn: (line: string, lineNo: number) => void): void {
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
    fn(line, lineNo);
  }
}

/**
 * forEachNdjsonLine that hands the event loop back every `yieldEvery` lines
 * (setImmediate), so a large body does not hold up the writer's insert
 * continuations and other requests for its whole validation.
 */
export async function forEachNdjsonLineAsync(text: string, fn: (line: string, lineNo: number) => void, yieldEvery = 1000): Promise<void> {
  let lineNo = 0;
  let start = 0;
  let sinceYield = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    lineNo++;
    let line = text.slice(start, end);
    start = end + 1;
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (line.trim() === '') continue;
    fn(line, lineNo);
    if (++sinceYield >= yieldEvery && start < text.length) {
      sinceYield = 0;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }
}
