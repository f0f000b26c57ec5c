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
}

const text = (max: number) => z.string().min(1).max(max);

/** Strict: an unknown parameter (a typo like `tenat`) is an error, never a silently broader query. */
export const CallFilterSchema = z
  .object({
    tool: text(128).optional(),
    tenant: text(128).optional(),
    agent: text(256).optional(),
    client: text(128).optional(),
    rounds: z.enum(['last', 'all'], { error: () => 'rounds must be last or all' }).optional(),
    outcome: z.enum(OUTCOMES, { error: () => `outcome must be one of ${OUTCOMES.join(', ')}` }).optional(),
    since: z
      .string()
      .refine(
        (s) => {
          try {
            parseSince(s);
            return true;
          } catch {
            return false;
          }
        },
        { message: 'since must be a duration like 30s, 15m, 1h or 7d (at most 31d)' },
      )
      .optional(),
    limit: z.coerce
      .number({ error: () => `limit must be an integer from 1 to ${MAX_LIMIT}` })
      .int({ error: () => `limit must be an integer from 1 to ${MAX_LIMIT}` })
      .min(1, { error: () => `limit must be an integer from 1 to ${MAX_LIMIT}` })
      .max(MAX_LIMIT, { error: () => `limit must be an integer from 1 to ${MAX_LIMIT}` })
      .optional(),
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
