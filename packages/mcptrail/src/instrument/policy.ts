import type { RedactRules } from '../record/index.js';

/** What the agent may see of a tool's result. */
export interface OutputPolicy {
  /**
   * Result fields kept, as dot paths (`deal.id`, `contacts.name`; arrays are
   * transparent, `contacts[].name` reads the same; `*` matches any key). Every
   * other field is dropped from structuredContent and from JSON text content.
   * Unset: the result passes unfiltered.
   */
  allow?: readonly string[];
  /**
   * Wrap text content in an `<untrusted-data id="nonce">` boundary. Default
   * true; turn off only for text the server itself wrote.
   */
  untrusted?: boolean;
}

/**
 * Whether the agent is asked why it calls a tool (instrument/intent.ts):
 * `off` (default) leaves the tool as it is; `optional` adds an `intent`
 * argument to its listed input schema and records what the agent states;
 * `required` also refuses a call that states none (a tool error the model can
 * act on, recorded).
 */
export type IntentPolicy = 'off' | 'optional' | 'required';

/** Per-tool operating policy. */
export interface ToolPolicy {
  /** Scope the caller's token must carry. */
  scope?: string;
  /** Reads are retry-safe; writes get idempotency (when a store is configured). */
  kind?: 'read' | 'write';
  /** Deduplicate identical calls (default: on for writes when instrument() has an idempotency store). */
  idempotent?: boolean;
  /**
   * The upstream deduplicates this tool's writes by `Idempotency-Key` (the
   * call's key is sent as it). Then a retry after an interrupted or ambiguous
   * call runs again (the upstream answers with the first effect). Default
   * false: such a retry is answered `interrupted`, never run twice.
   */
  upstreamDedupes?: boolean;
  /** Time budget of one call, in ms (default 20,000). */
  budgetMs?: number;
  /** Schema version, on every record. */
  version?: string;
  /** Still served; flagged on records and in a warn line. */
  deprecated?: boolean;
  /** Argument summary rules for the audit record. */
  redact?: RedactRules;
  output?: OutputPolicy;
  /** Ask for (and record) the agent's stated intent; per tool, or for every tool in `defaults`. Default `off`. */
  intent?: IntentPolicy;
}

export function resolvePolicy(tool: string, tools?: Record<string, ToolPolicy>, defaults?: ToolPolicy): ToolPolicy {
  const own = tools?.[tool];
  if (!defaults) return own ?? {};
  if (!own) return defaults;
  return { ...defaults, ...own, redact: own.redact ?? defaults.redact, output: own.output ?? defaults.output };
}
