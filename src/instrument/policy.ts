import type { RedactRules } from '../record/index.js';

/** Per-tool operating policy. */
export interface ToolPolicy {
  /** Scope the caller's token must carry. */
  scope?: string;
  /** Reads are retry-safe; writes need idempotency keys. */
  kind?: 'read' | 'write';
  /** Time budget of one call, in ms (default 20,000). */
  budgetMs?: number;
  version?: string;
  deprecated?: boolean;
  /** Argument summary rules for the audit record. */
  redact?: RedactRules;
}

export function resolvePolicy(tool: string, tools?: Record<string, ToolPolicy>, defaults?: ToolPolicy): ToolPolicy {
  const own = tools?.[tool];
  if (!defaults) return own ?? {};
  if (!own) return defaults;
  return { ...defaults, ...own, redact: own.redact ?? defaults.redact };
}
