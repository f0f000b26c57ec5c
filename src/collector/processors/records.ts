/**
 * Validates an NDJSON body of CallRecords line by line. All or nothing: one
 * bad line rejects the request, naming the line and the problem. Valid lines
 * go to the store as the client sent them (no re-serialisation).
 */
import { CallRecordSchema } from '../../record/schema.js';
import { HttpError } from '../errors.js';

export interface ValidatedRecords {
  /** Newline-terminated NDJSON of the valid records. */
  ndjson: string;
  count: number;
}

export function validateRecords(body: Buffer): ValidatedRecords {
  const text = body.toString('utf8');
  const kept: string[] = [];
  let verbatim = true;
  let count = 0;
  let lineNo = 0;
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    lineNo++;
    let line = text.slice(start, end);
    start = end + 1;
    if (line.endsWith('\r')) {
      line = line.slice(0, -1);
      verbatim = false;
    }
    if (line.trim() === '') {
      verbatim = false;
      continue;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      throw new HttpError(400, `line ${lineNo}: not valid JSON`);
    }
    const result = CallRecordSchema.safeParse(parsed);
    if (!result.success) {
      const problems = result.error.issues.slice(0, 3).map((i) => {
        if (i.code === 'unrecognized_keys') return `unknown field(s) ${i.keys.join(', ')}`;
        const path = i.path.map(String).join('.');
        return path ? `${path}: ${i.message}` : i.message;
      });
      throw new HttpError(400, `line ${lineNo}: ${problems.join('; ')}`);
    }
    kept.push(line);
    count++;
  }
  if (count === 0) return { ndjson: '', count: 0 };
  // The common case (no blank lines, no CRLF): the body itself is the batch text.
  const ndjson = verbatim ? (text.endsWith('\n') ? text : text + '\n') : kept.join('\n') + '\n';
  return { ndjson, count };
}
