/**
 * The HTTP edge of an instrumented MCP server: fastify, Streamable HTTP in
 * stateless mode (a fresh server + transport per request), bearer
 * authentication before the transport, RFC 9728 metadata, and — while the
 * answer is still an HTTP status — per-tool scopes (403 insufficient_scope)
 * and whole-request budgets (429 + Retry-After). A request refused here
 * gets its one audit record here; the tool's pipeline never sees it.
 * Authentication runs on the request line and headers (onRequest), before the
 * body is read, so unauthenticated traffic is bounded by the edge guard
 * (edge-guard.ts) before it costs a parse.
 */
import { trace } from '@opentelemetry/api';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { createMcpHandler, type McpHttpHandler } from '@modelcontextprotocol/server';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import {
  AuthError,
  protectedResourceMetadata,
  protectedResourceMetadataUrl,
  wwwAuthenticate,
  type Authenticator,
  type Principal,
} from '../auth/index.js';
import { errorFields, type Logger, type RecordSink } from '../record/index.js';
import type { RateLimits } from '../runtime/index.js';
import { checkRequestCalls } from './edge-checks.js';
import { createEdgeAdmission, type EdgeGuardOptions } from './edge-guard.js';
import { refusalRecorder, singleId, toolName, toolsCalls } from './edge-refusals.js';
import type { AnyMcpServer } from './instrument.js';
import { resolvePolicy, type ToolPolicy } from './policy.js';

export interface McpHttpAppOptions {
  /** Builds one (already instrumented) McpServer; called once per request. */
  serverFactory: () => AnyMcpServer | Promise<AnyMcpServer>;
  authenticator: Authenticator;
  /** Receives the records of calls rejected before reaching a tool. */
  sink: RecordSink;
  service: string;
  /** MCP endpoint path. Default `/mcp`. */
  path?: string;
  /** Public URL of the MCP endpoint (the token audience); derived from the request when omitted. */
  resourceUrl?: string;
  authorizationServers?: string[];
  scopesSupported?: string[];
  /** Which SDK line the factory builds; probed once by calling the factory when omitted. */
  sdk?: 'v1' | 'v2';
  /** For transport errors (class and code only). */
  logger?: Logger;
  tracerName?: string;
  /** Request body limit in bytes. Default 4 MiB. */
  bodyLimit?: number;
  /**
   * The tool policies (the same as instrument()'s): a tools/call whose tool
   * scope the token lacks is refused with 403 before the SDK runs.
   */
  tools?: Record<string, ToolPolicy>;
  defaults?: ToolPolicy;
  /**
   * Whole-request budgets checked at the edge, answered 429 + Retry-After
   * (403 for a permanent denial): typically the per-agent budget. Per-tool and
   * per-tenant budgets belong to instrument()'s `limits`. Created once.
   */
  limits?: RateLimits;
  /**
   * Budgets for unauthenticated requests, checked before their body is read:
   * per client address (`req.ip`: set fastify's trustProxy behind a proxy)
   * and bodies in flight. Answered 429 + Retry-After. Default on; false turns it off.
   */
  guard?: EdgeGuardOptions | false;
}

type AuthInfo = {
  token: string;
  clientId: string;
  scopes: string[];
  expiresAt?: number;
  extra: { principal: Principal };
};

const WELL_KNOWN = '/.well-known/oauth-protected-resource';

export async function createMcpHttpApp(opts: McpHttpAppOptions): Promise<FastifyInstance> {
  const path = opts.path ?? '/mcp';
  // With the line given, a factory that cannot build at startup only costs the tool names.
  const probed = await probeServer(opts.serverFactory).catch((err: unknown) => {
    if (!opts.sdk) throw err;
    return { line: opts.sdk, tools: new Set<string>() };
  });
  const sdk = opts.sdk ?? probed.line;
  const tracer = trace.getTracer(opts.tracerName ?? 'mcptrail');
  const app = Fastify({ bodyLimit: opts.bodyLimit ?? 4 * 1024 * 1024 });
  const edge = createEdgeAdmission({ authenticator: opts.authenticator, guard: opts.guard, service: opts.service, sink: opts.sink });
  app.addHook('onClose', async () => edge.flush());

  const resourceOf = (req: FastifyRequest) => opts.resourceUrl ?? `${req.protocol}://${req.host}${path}`;
  // A configured resource URL gives one metadata URL: parsed once, not per request.
  let fixedMetadataUrl: string | undefined;
  const metadataUrlOf = (req: FastifyRequest) =>
    opts.resourceUrl ? (fixedMetadataUrl ??= protectedResourceMetadataUrl(opts.resourceUrl)) : protectedResourceMetadataUrl(resourceOf(req));

  const metadata = (req: FastifyRequest) =>
    protectedResourceMetadata({
      resource: resourceOf(req),
      authorizationServers: opts.authorizationServers,
      scopesSupported: opts.scopesSupported,
    });
  app.get(WELL_KNOWN, async (req) => metadata(req));
  if (path !== '/') app.get(`${WELL_KNOWN}${path}`, async (req) => metadata(req));

  const v2Handler: McpHttpHandler | undefined =
    sdk === 'v2'
      ? createMcpHandler(async () => (await opts.serverFactory()) as never, {
          onerror: (err) => opts.logger?.error(errorFields(err), 'mcp_handler_error'),
        })
      : undefined;

  app.post(path, { onRequest: edge.admit, onError: edge.countUnread }, async (req, reply) => {
    const admission = edge.admissionOf(req);
    if (!admission?.principal) return rejectUnauthenticated(req, reply, admission?.authError ?? new AuthError('missing_token'));
    const principal = admission.principal;
    // No policies and no edge budgets: nothing to check, and no promise to await per request.
    const refused = opts.tools || opts.defaults || opts.limits ? await checkToolCalls(req, principal) : undefined;
    if (refused) {
      const { refusal } = refused;
      return reply.code(refusal.status).headers(refusal.headers).send({ jsonrpc: '2.0', error: refusal.error, id: singleId(req.body) });
    }
    const authInfo: AuthInfo = {
      token: bearerToken(req.headers.authorization),
      clientId: principal.agentId,
      scopes: principal.scopes,
      expiresAt: principal.expiresAt,
      extra: { principal },
    };
    return sdk === 'v2' ? serveV2(req, reply, authInfo) : serveV1(req, reply, authInfo);
  });

  // Stateless: no standalone SSE stream and no session to delete.
  const methodNotAllowed = async (_req: FastifyRequest, reply: FastifyReply) =>
    reply
      .code(405)
      .header('allow', 'POST')
      .send({ jsonrpc: '2.0', error: { code: -32000, message: 'Method not allowed.' }, id: null });
  app.get(path, methodNotAllowed);
  app.delete(path, methodNotAllowed);

  async function serveV1(req: FastifyRequest, reply: FastifyReply, authInfo: AuthInfo) {
    const made = opts.serverFactory();
    // A synchronous factory's server is used as is (awaiting it would cost a promise and a tick per request).
    const server = (isPromise(made) ? await made : made) as import('@modelcontextprotocol/sdk/server/mcp.js').McpServer;
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    reply.raw.on('close', () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    (req.raw as typeof req.raw & { auth?: AuthInfo }).auth = authInfo;
    reply.hijack();
    try {
      await transport.handleRequest(req.raw, reply.raw, req.body);
    } catch (err) {
      opts.logger?.error(errorFields(err), 'mcp_transport_error');
      if (!reply.raw.headersSent) {
        reply.raw.writeHead(500, { 'content-type': 'application/json' });
        reply.raw.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32603, message: 'Internal error' }, id: null }));
      }
    }
  }

  async function serveV2(req: FastifyRequest, reply: FastifyReply, authInfo: AuthInfo) {
    const abort = new AbortController();
    reply.raw.on('close', () => {
      if (!reply.raw.writableFinished) abort.abort();
    });
    const request = new Request(new URL(req.url, `${req.protocol}://${req.host}`), {
      method: req.method,
      headers: webHeaders(req.headers),
      signal: abort.signal,
    });
    const response = await v2Handler!.fetch(request, { authInfo, parsedBody: req.body });
    return reply.send(response);
  }

  const policies = opts.tools ?? {};
  const recordRefusal = refusalRecorder({
    service: opts.service,
    sink: opts.sink,
    tracer,
    tools: opts.tools,
    defaults: opts.defaults,
    isRegistered: (name) => probed.tools.has(name) || Object.prototype.hasOwnProperty.call(policies, name),
  });

  function rejectUnauthenticated(req: FastifyRequest, reply: FastifyReply, err: AuthError) {
    // One record for the request, however many calls it carried.
    const calls = toolsCalls(req.body);
    if (calls.length > 0) recordRefusal(req.headers, calls, calls[0]!, { outcome: 'unauthenticated', errorClass: 'AuthError', errorCode: err.code, rateLimitBudget: '' });
    return reply
      .code(401)
      .header('www-authenticate', wwwAuthenticate(err, { resourceMetadataUrl: metadataUrlOf(req) }))
      .send({ jsonrpc: '2.0', error: { code: -32001, message: err.message, data: { reason: err.code } }, id: singleId(req.body) });
  }

  /** Scope and edge budgets for the request's tools/call messages; a refusal is recorded once, for the whole request. */
  async function checkToolCalls(req: FastifyRequest, principal: Principal) {
    const calls = toolsCalls(req.body);
    if (calls.length === 0) return undefined;
    const policyOf = (tool: string) => resolvePolicy(tool, opts.tools, opts.defaults);
    const refused = await checkRequestCalls(calls, toolName, principal, policyOf, opts.limits, metadataUrlOf(req));
    if (refused) recordRefusal(req.headers, calls, refused.message, refused.refusal, principal);
    return refused;
  }

  return app;
}

function bearerToken(header: string | undefined): string {
  return header?.replace(/^Bearer[ \t]+/i, '').trim() ?? '';
}

/** Hop-by-hop and body-framing headers don't carry over to the re-built request (its body is passed parsed). */
const SKIP_HEADERS = new Set(['content-length', 'transfer-encoding', 'connection', 'keep-alive', 'upgrade', 'expect']);

function webHeaders(headers: FastifyRequest['headers']): Headers {
  const out = new Headers();
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || SKIP_HEADERS.has(name)) continue;
    if (Array.isArray(value)) for (const v of value) out.append(name, v);
    else out.set(name, value);
  }
  return out;
}

/**
 * One server from the factory, at startup: which SDK line it is, and which
 * tools it registers (the edge records any other name as `unknown`). A
 * factory that cannot build outside a request gives no names: then only the
 * policies' names count as registered.
 */
async function probeServer(factory: McpHttpAppOptions['serverFactory']): Promise<{ line: 'v1' | 'v2'; tools: Set<string> }> {
  const server = await factory();
  // Only the v2 McpServer exposes toolInputSchemaJson (used by its HTTP entry).
  const line = typeof (server as { toolInputSchemaJson?: unknown }).toolInputSchemaJson === 'function' ? 'v2' : 'v1';
  // Both lines keep the registry in `_registeredTools` (instrument.ts relies on it too).
  const registry = (server as unknown as { _registeredTools?: Record<string, unknown> })._registeredTools;
  const tools = new Set(registry && typeof registry === 'object' ? Object.keys(registry) : []);
  await server.close().catch(() => undefined);
  return { line, tools };
}

function isPromise<T>(v: T | Promise<T>): v is Promise<T> {
  return typeof (v as { then?: unknown } | null)?.then === 'function';
}
