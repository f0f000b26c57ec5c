/** Validation of audit query inputs, shared by the API (query strings) and the CLI (flags). */
import { z } from 'zod';
import { OUTCOMES, type Outcome } from 'mcptrail/record';
import { parseSince } from './since.js';

export const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 1000;
export const DEFAULT_SINCE = '1h';

export interface CallFilter {
  tool?: string;
  tenant?: string;
  agent?: string;
  /** The client's declared name (`client_name`). */
  client?: string;
  outcome?: Outcome;
  /** Text the call's stated intent contains (case-insensitive substring; a word of it finds it). */
  intent?: string;
  /**
   * `last` (default): one row per logical call, its latest round (a
   * multi-round-trip call's rounds fold into one; its `round` says how many
   * ran). `all`: every round's record.
   */
  rounds?: 'last' | 'all';
  /** Look-back window like `15m`; default 1h. */
  since?: string;
  /** 1..1000, default 100. */
  limit?: number;
  /** Keyset paging: only calls older than this cursor (`nextCursor` of the previous page, `<epoch ms>_<call_id>`). */
  before?: string;
}

/** `<epoch ms>_<call_id>`: the position of a call in newest-first order (ts, then call_id, descending). */
export const CURSOR_PATTERN = /^(\d{1,15})_([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;

/** The cursor after `call` in newest-first order. */
export function cursorOf(call: { ts: string; call_id: string }): string {
  return `${Date.parse(call.ts)}_${call.call_id}`;
}

const text = (max: number) => z.string().min(1).max(max);

/** A string that `parse` accepts (it throws otherwise): one refinement for `since`, `window`, `until`, ... */
export function parsedString(parse: (s: string) => unknown, message: string) {
  return z.string().refine(
    (s) => {
      try {
        parse(s);
        return true;
      } catch {
        return false;
      }
    },
    { message },
  );
}

/** Strict: an unknown parameter (a typo like `tenat`) is an error, never a silently broader query. */
export const CallFilterSchema = z
  .object({
    tool: text(128).optional(),
    tenant: text(128).optional(),
    agent: text(256).optional(),
    client: text(128).optional(),
    intent: text(300).optional(),
    rounds: z.enum(['last', 'all'], { error: () => 'rounds must be last or all' }).optional(),
    outcome: z.enum(OUTCOMES, { error: () => `outcome must be one of ${OUTCOMES.join(', ')}` }).optional(),
    since: parsedString(parseSince, 'since must be a duration like 30s, 15m, 1h or 7d (at most 31d)').optional(),
    limit: z.coerce
      .number({ error: () => `limit must be an integer from 1 to ${MAX_LIMIT}` })
      .int({ error: () => `limit must be an integer from 1 to ${MAX_LIMIT}` })
      .min(1, { error: () => `limit must be an integer from 1 to ${MAX_LIMIT}` })
      .max(MAX_LIMIT, { error: () => `limit must be an integer from 1 to ${MAX_LIMIT}` })
      .optional(),
    before: z.string().regex(CURSOR_PATTERN, { message: 'before must be a cursor <epoch ms>_<call_id> (the nextCursor of a page)' }).optional(),
  })
  .strict();

export const TRACE_ID_PATTERN = /^[0-9a-f]{32}$/;

export function isTraceId(value: string): boolean {
  return TRACE_ID_PATTERN.test(value);
}

/** One readable line from a zod error: `since: since must be ...; limit: ...`. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((i) => {
      if (i.code === 'unrecognized_keys') return `unknown parameter(s): ${i.keys.join(', ')}`;
      const path = i.path.map(String).join('.');
      return path ? `${path}: ${i.message}` : i.message;
    })
    .join('; ');
}
