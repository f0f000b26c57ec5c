/** Audit queries shared by the collector's API and the CLI (and the audit MCP tools): all parameterised, all read-only; plus the ledger's digests. */
export { listCalls, callsForTrace } from './calls.js';
export { getTrace, TENANT_SPAN_ATTRIBUTE, type TraceView, type SpanView, type SpanEventView, type TraceReadOptions } from './traces.js';
export { parseSince, SINCE_PATTERN, MAX_SINCE_SECONDS } from './since.js';
export {
  CallFilterSchema,
  describeIssues,
  parsedString,
  isTraceId,
  TRACE_ID_PATTERN,
  CURSOR_PATTERN,
  cursorOf,
  DEFAULT_LIMIT,
  DEFAULT_SINCE,
  MAX_LIMIT,
  type CallFilter,
} from './filters.js';
export { explainCall, isCallId, type CallExplanation, type UpstreamStep } from './explain.js';
export { tenantHealth, type TenantHealth, type ToolHealth } from './health.js';
export { readExportPage, encodeCursor, decodeCursor, EXPORT_FORMATS, DEFAULT_EXPORT_LIMIT, MAX_EXPORT_LIMIT, type ExportFormat, type ExportPage, type ExportRange, type ExportKey } from './export.js';
export { verifyLedger, ledgerHeads, type VerifyReport, type VerifyOptions, type TenantVerification, type RowProblem, type ChainProblem } from './verify.js';
export { entryDigest, GENESIS_DIGEST, type LedgerEntry, type LedgerHead, type LedgerRowFact } from './ledger-entry.js';
export { rowDigest, rowDigestSql, normalizeForStore, columnsFor, LEDGER_COLUMNS_VERSION, ROW_DIGEST_BYTES } from './row-digest.js';
export { parseInstant } from './instant.js';
