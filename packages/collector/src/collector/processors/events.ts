/** Validates an NDJSON body of pipeline events (shipper drops and the like), line by line, all or nothing. */
import { z } from 'zod';
import { HttpError } from '../errors.js';
import { forEachNdjsonLine } from './ndjson.js';
import { wellFormedJson } from './well-formed.js';

export const PipelineEventSchema = z
  .object({
    ts: z.string().datetime({ offset: true }),
    service: z.string().max(128),
    instance: z.string().max(256),
    /** shipper_drop: audit records lost (the shipper-drops alert); span_drop: spans lost from the span spool. */
    event: z.enum(['shipper_drop', 'span_drop']),
    reason: z.string().max(64),
    count: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  })
  .strict();
export type PipelineEvent = z.infer<typeof PipelineEventSchema>;

/** At most this many events per request: a shipper sends a handful. */
export const MAX_EVENTS = 1000;

/** The valid events as one NDJSON text (empty when there were none), and how many. */
export function validateEvents(body: Buffer): { ndjson: string; count: number } {
  const out: string[] = [];
  forEachNdjsonLine(body.toString('utf8'), (raw, lineNo) => {
    const line = raw.trim();
    if (out.length >= MAX_EVENTS) throw new HttpError(413, `at most ${MAX_EVENTS} events per request`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      throw new HttpError(400, `line ${lineNo}: not valid JSON`);
    }
    const result = PipelineEventSchema.safeParse(parsed);
    if (!result.success) {
      const issue = result.error.issues[0]!;
      throw new HttpError(400, `line ${lineNo}: ${issue.path.length ? `${issue.path.join('.')}: ` : ''}${issue.message}`);
    }
    const ts = Date.parse(result.data.ts);
    if (!(ts >= Date.UTC(2000, 0, 1) && ts <= Date.UTC(2100, 0, 1))) throw new HttpError(400, `line ${lineNo}: ts: outside the storable range`);
    out.push(wellFormedJson(JSON.stringify(result.data)));
  });
  return { ndjson: out.length ? out.join('\n') + '\n' : '', count: out.length };
}
