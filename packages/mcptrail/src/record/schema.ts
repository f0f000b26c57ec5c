/**
 * The CallRecord: one row per tool call, the audit trail's unit.
 *
 * This file is the single source of truth for the record's fields. The zod
 * schema (validation at ingest), the TypeScript type and the ClickHouse column
 * list of `tool_calls` are all derived from FIELDS below, so a field is added in
 * exactly one place.
 */
import { z } from 'zod';

export const OUTCOMES = [
  'ok',
  'tool_error',
  'system_error',
  'deadline_exceeded',
  'rate_limited',
  'denied',
  'unauthenticated',
  'upstream_unavailable',
  /**
   * The call never finished: the process died (or lost track of it) after its
   * intent was made durable, so its upstream effect may or may not have
   * happened. Written on recovery from the intent; a retry with the same
   * idempotency key is answered with it too (then `idempotent_replay`).
   */
  'interrupted',
  /** A round of a multi-round-trip call that ended by asking the client for input (`input_required`); the logical call goes on in its next round. */
  'input_required',
  /** A task (or job) stopped because its caller cancelled it (`tasks/cancel`). */
  'cancelled',
] as const;
export type Outcome = (typeof OUTCOMES)[number];

/** What a record accounts for (see `record_kind`). */
export const RECORD_KINDS = ['call', 'task'] as const;
export type RecordKind = (typeof RECORD_KINDS)[number];

export const AUTH_METHODS = ['jwt', 'api_key', 'bearer', 'none'] as const;
/** `address`: the HTTP edge's budget for unauthenticated requests per client address. */
export const RATE_LIMIT_BUDGETS = ['', 'agent', 'tool', 'tenant', 'concurrency', 'address'] as const;

const HEX32 = /^[0-9a-f]{32}$/;
const HEX16 = /^[0-9a-f]{16}$/;
const str = (max: number) => z.string().max(max);
const count = z.number().int().min(0).max(1_000_000);

interface Field {
  zod: z.ZodTypeAny;
  /** ClickHouse column type and codec. */
  ch: string;
  /**
   * The store migration that added the column (absent: the first one). A new
   * field is appended at the end of FIELDS with the migration that adds it, so
   * the first migration's DDL never changes and existing tables get
   * `ADD COLUMN` (see store/migrations.ts).
   */
  since?: number;
}

/** Field order here is the column order of `tool_calls`. */
export const FIELDS = {
  ts: { zod: z.string().datetime({ offset: true }), ch: "DateTime64(3, 'UTC') CODEC(Delta(8), ZSTD(1))" },
  call_id: { zod: z.string().uuid(), ch: 'UUID CODEC(ZSTD(1))' },
  trace_id: { zod: z.string().regex(HEX32).or(z.literal('')), ch: 'String CODEC(ZSTD(1))' },
  span_id: { zod: z.string().regex(HEX16).or(z.literal('')), ch: 'String CODEC(ZSTD(1))' },
  session_id: { zod: str(256), ch: 'String CODEC(ZSTD(1))' },
  /** JSON-RPC request id of the tools/call, as a string. */
  request_id: { zod: str(256), ch: 'String CODEC(ZSTD(1))' },
  service: { zod: str(128), ch: 'LowCardinality(String) CODEC(ZSTD(1))' },
  tool: { zod: str(128), ch: 'LowCardinality(String) CODEC(ZSTD(1))' },
  tool_version: { zod: str(32), ch: 'LowCardinality(String) CODEC(ZSTD(1))' },
  tool_deprecated: { zod: z.boolean(), ch: 'Bool' },
  tenant_id: { zod: str(128), ch: 'LowCardinality(String) CODEC(ZSTD(1))' },
  agent_id: { zod: str(256), ch: 'String CODEC(ZSTD(1))' },
  subject: { zod: str(256), ch: 'String CODEC(ZSTD(1))' },
  auth_method: { zod: z.enum(AUTH_METHODS), ch: 'LowCardinality(String)' },
  scope_required: { zod: str(128), ch: 'LowCardinality(String)' },
  scopes_granted: { zod: z.array(str(128)).max(64), ch: 'Array(LowCardinality(String))' },
  outcome: { zod: z.enum(OUTCOMES), ch: 'LowCardinality(String)' },
  /** Class and code of the error, never its message. */
  error_class: { zod: str(128), ch: 'LowCardinality(String)' },
  error_code: { zod: str(64), ch: 'LowCardinality(String)' },
  duration_ms: { zod: z.number().min(0).max(86_400_000), ch: 'Float32 CODEC(ZSTD(1))' },
  upstream_calls: { zod: count, ch: 'UInt16 CODEC(T64, ZSTD(1))' },
  upstream_retries: { zod: count, ch: 'UInt16 CODEC(T64, ZSTD(1))' },
  budget_ms_total: { zod: count.max(86_400_000), ch: 'UInt32 CODEC(T64, ZSTD(1))' },
  budget_ms_used: { zod: count.max(86_400_000), ch: 'UInt32 CODEC(T64, ZSTD(1))' },
  auth_refresh: { zod: count, ch: 'UInt8' },
  auth_refresh_failed: { zod: count, ch: 'UInt8' },
  auth_refresh_reason: { zod: str(64), ch: 'LowCardinality(String)' },
  rate_limited: { zod: z.boolean(), ch: 'Bool' },
  rate_limit_budget: { zod: z.enum(RATE_LIMIT_BUDGETS), ch: 'LowCardinality(String)' },
  idempotency_key: { zod: str(256), ch: 'String CODEC(ZSTD(1))' },
  idempotent_replay: { zod: z.boolean(), ch: 'Bool' },
  /** Redacted argument summary: JSON of hashes, lengths and allow-listed values. */
  args_summary: { zod: str(8192), ch: 'String CODEC(ZSTD(3))' },
  /**
   * The tools/call messages this record accounts for: 1 for a call that
   * reached the pipeline; for a request the HTTP edge refused, every call it
   * carried (one record per refused request, however many calls it held); for
   * the edge's per-minute summary of requests refused before their body was
   * read, the number of those requests. Defaults to 1 (in zod and in the
   * column): every record written before the field existed accounted for one
   * call, and a record an older library spooled still validates.
   */
  calls_in_request: { zod: count.default(1), ch: 'UInt32 DEFAULT 1 CODEC(T64, ZSTD(1))', since: 4 },
  // Migration 7: the protocol era, the client, multi-round-trip calls and tasks. Each has a default (in zod
  // and in the column), so a record an older library spooled still validates and reads as what it was.
  /** The MCP revision the request was served under (`2026-07-28`, `2025-11-25`, …); '' when unknown. */
  protocol_version: { zod: str(32).default(''), ch: 'LowCardinality(String)', since: 7 },
  /**
   * The client's declared name and version: from the request's `_meta` clientInfo (2026-07-28), else from
   * the `initialize` the client sent (a stateless legacy tools/call carries none: the edge remembers the
   * principal's last one). Caller-declared text, clipped; never used for identity.
   */
  client_name: { zod: str(128).default(''), ch: 'LowCardinality(String) CODEC(ZSTD(1))', since: 7 },
  client_version: { zod: str(64).default(''), ch: 'LowCardinality(String) CODEC(ZSTD(1))', since: 7 },
  /** The JSON-RPC method the record accounts for; every record written before the field existed was a tools/call. */
  mcp_method: { zod: str(64).default('tools/call'), ch: "LowCardinality(String) DEFAULT 'tools/call'", since: 7 },
  /**
   * `call`: one executed request (or one refused request, or the edge's summary of requests refused unread).
   * `task`: the work a task (or job) did after the call that started it returned — its completion, failure
   * or cancellation — with the task's own upstream counters and duration, linked by `task_id`.
   */
  record_kind: { zod: z.enum(RECORD_KINDS).default('call'), ch: "LowCardinality(String) DEFAULT 'call'", since: 7 },
  /** The task (2026-07-28 tasks extension) or job (`start_*` tools) this record starts or ends; ''. */
  task_id: { zod: str(128).default(''), ch: 'String CODEC(ZSTD(1))', since: 7 },
  /**
   * The logical call this record is a round of: the `call_id` of its first round. A multi-round-trip call
   * (`input_required`, then a retry with the answers on a fresh request id) is one logical call of several
   * records, one per round that ran; a call of one round has its own `call_id` here ('' in records written
   * before the field existed: read it as `call_id`).
   */
  logical_call_id: { zod: str(64).default(''), ch: 'String CODEC(ZSTD(1))', since: 7 },
  /** 1 for a logical call's first request, n for its n-th round (the retry carrying the answers of round n-1). */
  round: { zod: count.max(10_000).default(1), ch: 'UInt16 DEFAULT 1', since: 7 },
  /** What a round that answered `input_required` asked the client, redacted like arguments (JSON); ''. */
  input_requests_summary: { zod: str(4096).default(''), ch: 'String CODEC(ZSTD(3))', since: 7 },
  /** What the client answered (the `inputResponses` a round carried), redacted like arguments (JSON); ''. */
  input_responses_summary: { zod: str(4096).default(''), ch: 'String CODEC(ZSTD(3))', since: 7 },
  /**
   * Migration 8: why the agent says it made the call, in its own words (`_meta['io.mcptrail/intent']`, else
   * the `intent` argument mcptrail adds to the tool's input schema). Caller text, so bounded and masked like
   * an allow-listed argument value (secret-looking tokens, emails: record/intent.ts); '' when none was stated.
   */
  intent: { zod: str(300).default(''), ch: 'String CODEC(ZSTD(3))', since: 8 },
} satisfies Record<string, Field>;

export type FieldName = keyof typeof FIELDS;
export const FIELD_NAMES = Object.keys(FIELDS) as FieldName[];

type Shape = { [K in FieldName]: (typeof FIELDS)[K]['zod'] };
const shape = Object.fromEntries(FIELD_NAMES.map((k) => [k, FIELDS[k].zod])) as Shape;

/** Strict: unknown fields are an error, so a typo never silently drops data. */
export const CallRecordSchema = z.object(shape).strict();
export type CallRecord = z.infer<typeof CallRecordSchema>;

/** The migration that added a field's column (1 for the original columns). */
export function fieldSince(name: FieldName): number {
  return (FIELDS[name] as Field).since ?? 1;
}

/** Column definitions for the `tool_calls` DDL, in field order; `since` picks the columns one migration added. */
export function clickhouseColumns(since?: number): string[] {
  const names = since === undefined ? FIELD_NAMES : FIELD_NAMES.filter((k) => fieldSince(k) === since);
  return names.map((k) => `${k} ${FIELDS[k].ch}`);
}

/** A record with every field at its neutral value; builders fill in the rest. */
export function emptyRecord(): CallRecord {
  return {
    ts: new Date(0).toISOString(),
    call_id: '00000000-0000-4000-8000-000000000000',
    trace_id: '',
    span_id: '',
    session_id: '',
    request_id: '',
    service: '',
    tool: '',
    tool_version: '',
    tool_deprecated: false,
    tenant_id: '',
    agent_id: '',
    subject: '',
    auth_method: 'none',
    scope_required: '',
    scopes_granted: [],
    outcome: 'ok',
    error_class: '',
    error_code: '',
    duration_ms: 0,
    upstream_calls: 0,
    upstream_retries: 0,
    budget_ms_total: 0,
    budget_ms_used: 0,
    auth_refresh: 0,
    auth_refresh_failed: 0,
    auth_refresh_reason: '',
    rate_limited: false,
    rate_limit_budget: '',
    idempotency_key: '',
    idempotent_replay: false,
    args_summary: '{}',
    calls_in_request: 1,
    protocol_version: '',
    client_name: '',
    client_version: '',
    mcp_method: 'tools/call',
    record_kind: 'call',
    task_id: '',
    logical_call_id: '',
    round: 1,
    input_requests_summary: '',
    input_responses_summary: '',
    intent: '',
  };
}
