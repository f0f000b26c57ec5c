/**
 * The one place mcptrail reads the MCP SDKs' private members. Neither SDK
 * line has tool middleware (typescript-sdk#1928) nor a public registry of the
 * tools already registered, nor a way to wrap a request handler the SDK
 * installed itself; everything else mcptrail does goes through public API
 * (`registerTool`, `RegisteredTool.update`, `connect`, `getClientVersion`,
 * the handler's `extra`). test/sdk-internals.test.ts checks each access below
 * against both SDK lines and fails naming the member that moved.
 *
 * Members read, all present in `@modelcontextprotocol/sdk` 1.32 and
 * `@modelcontextprotocol/server` 2.4:
 *   McpServer._registeredTools         tools registered before instrument()
 *   McpServer.server._requestHandlers  the installed `tools/call` handler (a Map by method)
 *   McpServer.server._serverInfo       the server's own name (default service name)
 */

/** A registered tool as both lines keep it (the fields mcptrail reads or calls). */
export interface RegisteredToolLike {
  handler?: unknown;
  enabled?: boolean;
  execution?: { taskSupport?: unknown };
  update(updates: Record<string, unknown>): void;
}

export type RequestHandler = (request: unknown, extra: unknown) => unknown;

/** The protocol object behind an McpServer (`server.server`). */
export interface ProtocolLike {
  _requestHandlers?: Map<string, RequestHandler>;
  _serverInfo?: { name?: unknown };
  setRequestHandler?: (...args: unknown[]) => unknown;
  getClientVersion?: () => { name?: unknown; version?: unknown } | undefined;
  getClientCapabilities?: () => Record<string, unknown> | undefined;
}

interface ServerLike {
  _registeredTools?: Record<string, RegisteredToolLike>;
  server?: ProtocolLike;
  toolInputSchemaJson?: unknown;
}

export class SdkShapeError extends TypeError {
  override readonly name = 'SdkShapeError';
  constructor(member: string) {
    super(
      `mcptrail cannot find ${member} on this McpServer: expected an McpServer from @modelcontextprotocol/sdk ^1.32 or ` +
        '@modelcontextprotocol/server ^2.4 (a newer SDK may have moved it; see test/sdk-internals.test.ts)',
    );
  }
}

/** The tools registered so far, by name. Throws SdkShapeError when the SDK keeps them elsewhere. */
export function toolRegistry(server: unknown): Record<string, RegisteredToolLike> {
  const registry = (server as ServerLike | null)?._registeredTools;
  if (!registry || typeof registry !== 'object') throw new SdkShapeError('_registeredTools');
  return registry;
}

/** The request handlers of the server's protocol object, or undefined when the SDK keeps them elsewhere. */
export function requestHandlers(server: unknown): { protocol: ProtocolLike & { setRequestHandler: NonNullable<ProtocolLike['setRequestHandler']> }; handlers: Map<string, RequestHandler> } | undefined {
  const protocol = (server as ServerLike | null)?.server;
  const handlers = protocol?._requestHandlers;
  if (!protocol || !(handlers instanceof Map) || typeof protocol.setRequestHandler !== 'function') return undefined;
  return { protocol: protocol as never, handlers };
}

/** The name the server was constructed with (`new McpServer({ name })`), if readable. */
export function serverName(server: unknown): string | undefined {
  const name = (server as ServerLike | null)?.server?._serverInfo?.name;
  return typeof name === 'string' && name !== '' ? name : undefined;
}

/** The name and version the client declared in `initialize` (public on both lines; deprecated on v2's 2026 era). */
export function declaredClient(server: unknown): { name?: unknown; version?: unknown } | undefined {
  return readPublic(() => (server as ServerLike | null)?.server?.getClientVersion?.());
}

/** The name the client declared in `initialize`, if any. */
export function clientName(server: unknown): string | undefined {
  const name = declaredClient(server)?.name;
  return typeof name === 'string' && name !== '' ? name : undefined;
}

/**
 * The capabilities the client declared in `initialize` (legacy revisions; a
 * per-request server behind stateless HTTP never saw one and has none).
 */
export function declaredCapabilities(server: unknown): Record<string, unknown> | undefined {
  return readPublic(() => (server as ServerLike | null)?.server?.getClientCapabilities?.());
}

function readPublic<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch (err) {
    // A getter that throws is an SDK change, not a caller's problem: the call is recorded without it.
    if (err instanceof Error) return undefined;
    throw err;
  }
}

/** Only the v2 McpServer has `toolInputSchemaJson()` (public; its HTTP entry reads it). */
export function sdkLineOf(server: unknown): 'v1' | 'v2' {
  return typeof (server as ServerLike | null)?.toolInputSchemaJson === 'function' ? 'v2' : 'v1';
}
