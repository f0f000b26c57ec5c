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
