/**
 * The routing headers of MCP 2026-07-28 (SEP-2243): a request names its
 * revision, method and target in `MCP-Protocol-Version`, `Mcp-Method` and
 * `Mcp-Name`, so the edge can decide a `tools/call`'s scope and budgets from
 * the request line and headers, before the body is read. Acting on headers
 * is safe only if the body is then held to them: a request whose body is not
 * exactly the call its headers announced is refused (400, -32020
 * HeaderMismatch, the spec's code), and recorded.
 *
 * Only plain tool names are acted on early (a name the spec's base64 form
 * encodes is left to the body checks and the SDK's own validation).
 */
import type { IncomingHttpHeaders } from 'node:http';
import { PROTOCOL_VERSION_META_KEY } from './request-info.js';

/** The first revision with the routing headers. */
const FIRST_MODERN_REVISION = '2026-07-28';
const REVISION = /^\d{4}-\d{2}-\d{2}$/;
/** Tool names as the spec restricts them (SEP-986): what a plain `Mcp-Name` can carry. */
const PLAIN_TOOL_NAME = /^[A-Za-z0-9_.-]{1,128}$/;

export const JSONRPC_HEADER_MISMATCH = -32020;

/** The tools/call a request announces in its headers, if it announces one the edge may act on. */
export function announcedToolCall(headers: IncomingHttpHeaders): { tool: string } | undefined {
  const version = single(headers['mcp-protocol-version']);
  if (!version || !REVISION.test(version) || version < FIRST_MODERN_REVISION) return undefined;
  if (single(headers['mcp-method']) !== 'tools/call') return undefined;
  const name = single(headers['mcp-name']);
  return name !== undefined && PLAIN_TOOL_NAME.test(name) ? { tool: name } : undefined;
}

/**
 * Whether the body is the one tools/call the headers announced: a single
 * request (no batch), method `tools/call`, the same tool, and a 2026-07-28
 * envelope naming the header's revision.
 */
export function bodyMatchesAnnounced(body: unknown, headers: IncomingHttpHeaders, announced: { tool: string }): boolean {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return false;
  const msg = body as { method?: unknown; params?: { name?: unknown; _meta?: Record<string, unknown> } };
  if (msg.method !== 'tools/call' || msg.params?.name !== announced.tool) return false;
  const claimed = msg.params?._meta?.[PROTOCOL_VERSION_META_KEY];
  return claimed === single(headers['mcp-protocol-version']);
}

function single(v: string | string[] | undefined): string | undefined {
  const value = Array.isArray(v) ? (v.length === 1 ? v[0] : undefined) : v;
  return value?.trim();
}
