/**
 * The HTTP edge of an instrumented MCP server, as a fastify plugin mounted
 * into the user's app (`app.register(mcptrailFastify, options)`), or as a
 * whole app (`createMcpHttpApp`): Streamable HTTP in stateless mode (a fresh
 * server + transport per request), bearer authentication before the
 * transport, RFC 9728 metadata, and — while the answer is still an HTTP
 * status — per-tool scopes (403 insufficient_scope) and whole-request
 * budgets (429 + Retry-After). A tools/call refused here gets its one audit
 * record here; the tool's pipeline never sees it.
 * Authentication runs on the request line and headers (the route's onRequest),
 * before the body is read, so unauthenticated traffic is bounded by the edge
 * guard (edge-guard.ts) before it costs a parse.
 *
 * The plugin adds routes only (the endpoint with its route-level hooks, its
 * 405s, the metadata) and an onClose flush, no app-wide hooks, so the app's other routes and its own hooks are untouched. Tool
 * policies are given once: the servers the factory builds are instrumented
 * with the same compiled instrumentation the edge checks read.
 */
import Fastify, { type FastifyInstance, type FastifyPluginAsync, type FastifyReply, type FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import {
  AuthError,
  protectedResourceMetadata,
  protectedResourceMetadataUrl,
  wwwAuthenticate,
  type Authenticator,
  type Principal,
} from '../auth/index.js';
import { errorFields, type Logger } from '../record/index.js';
import type { RateLimits } from '../runtime/index.js';
import { checkRequestCalls } from './edge-checks.js';
import { announcedToolCall, bodyMatchesAnnounced, JSONRPC_HEADER_MISMATCH } from './edge-headers.js';
import { originAllowed, originPolicy } from './origin.js';
import { createEdgeAdmission, type EdgeGuardOptions } from './edge-guard.js';
import { refusalRecorder, singleId, toolName, toolsCalls } from './edge-refusals.js';
import { declaredClients, HOST_FACTS_KEY, type HostFacts } from './host-facts.js';
import { instrument, type McpServerLike } from './instrument.js';
import { createInstrumentation, type InstrumentOptions, type Instrumentation } from './instrumentation.js';
import { sdkLineOf, toolRegistry } from './sdk-internals.js';

export interface McpFastifyOptions extends InstrumentOptions {
  /** Builds one McpServer (instrumented here if it is not already); called once per request. */
  serverFactory: () => McpServerLike | Promise<McpServerLike>;
  authenticator: Authenticator;
  /** MCP endpoint path. Default `/mcp`. */
  path?: string;
  /** Public URL of the MCP endpoint (the token audience); derived from the request when omitted. */
  resourceUrl?: string;
  authorizationServers?: string[];
  scopesSupported?: string[];
  /** Which SDK line the factory builds; probed once by calling the factory when omitted. */
  sdk?: 'v1' | 'v2';
  /** Request body limit of the MCP route in bytes. Default 4 MiB. */
  bodyLimit?: number;
  /**
   * Whole-request budgets checked at the edge, answered 429 + Retry-After
   * (403 for a permanent denial): typically the per-agent budget. The
   * per-tool and per-tenant budgets are `limits` (in the pipeline).
   */
  edgeLimits?: RateLimits;
  /**
   * Budgets for unauthenticated requests, checked before their body is read:
   * per client address (`req.ip`: set fastify's trustProxy behind a proxy)
   * and bodies in flight. Answered 429 + Retry-After. Default on; false turns it off.
   */
  guard?: EdgeGuardOptions | false;
  /** Share an instrumentation compiled elsewhere instead of compiling these options. */
  instrumentation?: Instrumentation;
  /**
   * Origins (hostnames, port-agnostic) browsers may call the endpoint from;
   * any other `Origin` is answered 403 (DNS-rebinding protection). Requests
   * without an Origin (non-browser clients) always pass. Default: localhost,
   * 127.0.0.1, [::1] and the host of `resourceUrl`; `false` turns the check off.
   */
  allowedOrigins?: string[] | false;
}

export type McpHttpAppOptions = McpFastifyOptions;

/** What the plugin decorates the app with (`app.mcptrail`). */
export interface McpFastifyDecoration {
  /** The compiled instrumentation of the mounted endpoint(s), by path. */
  readonly endpoints: ReadonlyMap<string, Instrumentation>;
  /** Flushes the records (and the spans mcptrail exports) of every mounted endpoint. */
  flush(): Promise<void>;
}

declare module 'fastify' {
  interface FastifyInstance {
    mcptrail: McpFastifyDecoration;
  }
}

type AuthInfo = {
  token: string;
  clientId: string;
  scopes: string[];
  expiresAt?: number;
  extra: { principal: Principal; [HOST_FACTS_KEY]: HostFacts };
};

type NodeTransport = {
  handleRequest(req: unknown, res: unknown, body: unknown): Promise<void>;
  close(): Promise<void>;
};

type V2Handler = { fetch(request: Request, options: { authInfo: AuthInfo; parsedBody: unknown }): Promise<Response> };

const WELL_KNOWN = '/.well-known/oauth-protected-resource';

const HEADER_MISMATCH = { outcome: 'denied', errorClass: 'HeaderMismatch', errorCode: 'header_mismatch', rateLimitBudget: '', rpcCode: JSONRPC_HEADER_MISMATCH } as const;

async function mcptrailPlugin(app: FastifyInstance, opts: McpFastifyOptions): Promise<void> {
  const path = opts.path ?? '/mcp';
  const endpoints = app.hasDecorator('mcptrail') ? (app.mcptrail.endpoints as Map<string, Instrumentation>) : new Map<string, Instrumentation>();
  if (endpoints.has(path)) throw new Error(`mcptrail: an MCP endpoint is already mounted at ${path}`);
  const instr = opts.instrumentation ?? createInstrumentation(opts);
  const policies = instr.options;
  // The instrumentation's tracer, so refusals are traced like the calls (a host may give its own provider).
  const tracer = instr.tracer;
  // A synchronous factory's server is used as is (awaiting it would cost a promise and a tick per request).
  const made = (): McpServerLike | Promise<McpServerLike> => {
    const server = opts.serverFactory();
    return isPromise(server) ? server.then((s) => instrument(s, instr)) : instrument(server, instr);
  };
  // One server at startup: its SDK line, and the tools it registers (the edge records any other
  // name as `unknown`). With the line given, a factory that cannot build outside a request only
  // costs the names: then the policies' names alone count as registered.
  const probe = await Promise.resolve()
    .then(made)
    .catch((err: unknown) => {
      if (!opts.sdk) throw err;
      return undefined;
    });
  const sdk = opts.sdk ?? sdkLineOf(probe);
  const registered = new Set(probe ? Object.keys(toolRegistry(probe)) : []);
  const service = instr.service(probe);
  const sink = instr.sink(probe);
  const logger: Logger | undefined = instr.logger(probe);
  if (probe) await probe.close();
  const edge = createEdgeAdmission({ authenticator: opts.authenticator, guard: opts.guard, service, sink });

  // Each SDK line is loaded only when this endpoint serves it (both are optional peers).
  const v1 = sdk === 'v1' ? await import('@modelcontextprotocol/sdk/server/streamableHttp.js') : undefined;
  const v2Handler: V2Handler | undefined =
    sdk === 'v2'
      ? (await import('@modelcontextprotocol/server')).createMcpHandler(async () => (await made()) as never, {
          onerror: (err: unknown) => logger?.error(errorFields(err), 'mcp_handler_error'),
        })
      : undefined;

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
  // The path-less metadata URL belongs to the first endpoint mounted (RFC 9728 §3.1 inserts the path after it).
  if (!app.hasRoute({ method: 'GET', url: WELL_KNOWN })) app.get(WELL_KNOWN, async (req) => metadata(req));
  if (path !== '/') app.get(`${WELL_KNOWN}${path}`, async (req) => metadata(req));

  // No policies and no edge budgets: nothing to check, and no promise to await per request.
  const edgeChecks = Boolean(policies.tools || policies.defaults || opts.edgeLimits);
  // What each principal's client declared in its last legacy initialize (a stateless legacy tools/call carries nothing).
  const clients = declaredClients();
  const origins = originPolicy(opts.allowedOrigins, opts.resourceUrl);
  // The calls the edge already checked from a 2026-07-28 request's headers, before its body was read.
  const announcedCalls = new WeakMap<FastifyRequest, { tool: string }>();

  /**
   * What the edge decides from the request line and headers, after
   * authentication and before the body is read: the Origin, and for a
   * 2026-07-28 tools/call its scope and edge budgets from `Mcp-Name`.
   */
  async function beforeBody(req: FastifyRequest, reply: FastifyReply) {
    const principal = edge.admissionOf(req)?.principal;
    if (origins && !originAllowed(req.headers.origin, origins)) {
      // Authenticated: a record of its own; unauthenticated: counted (anyone can send these).
      if (principal) recordUnread(req, principal, { outcome: 'denied', errorClass: 'OriginError', errorCode: 'origin_not_allowed', rateLimitBudget: '', rpcCode: -32000 });
      else edge.countRefused('origin_not_allowed');
      return reply.code(403).send({ jsonrpc: '2.0', error: { code: -32000, message: 'Forbidden: Origin not allowed.' }, id: null });
    }
    if (!principal || !edgeChecks) return;
    const announced = announcedToolCall(req.headers);
    if (!announced) return;
    const refused = await checkRequestCalls([announced], (a) => a.tool, principal, instr.policyOf, opts.edgeLimits, metadataUrlOf(req));
    if (refused) {
      const { refusal } = refused;
      recordUnread(req, principal, { ...refusal, rpcCode: refusal.error.code });
      return reply.code(refusal.status).headers(refusal.headers).send({ jsonrpc: '2.0', error: refusal.error, id: null });
    }
    announcedCalls.set(req, announced);
  }

  app.post(path, { bodyLimit: opts.bodyLimit ?? 4 * 1024 * 1024, onRequest: [edge.admit, beforeBody], onError: edge.countUnread }, async (req, reply) => {
    const admission = edge.admissionOf(req);
    if (!admission?.principal) return rejectUnauthenticated(req, reply, admission?.authError ?? new AuthError('missing_token'));
    const principal = admission.principal;
    const announced = announcedCalls.get(req);
    if (announced && !bodyMatchesAnnounced(req.body, req.headers, announced)) return rejectMismatch(req, reply, principal);
    // Checked from the headers already: the body is that call, and its budget is not charged twice.
    const refused = edgeChecks && !announced ? await checkToolCalls(req, principal) : undefined;
    if (refused) {
      const { refusal } = refused;
      return reply.code(refusal.status).headers(refusal.headers).send({ jsonrpc: '2.0', error: refusal.error, id: singleId(req.body) });
    }
    clients.remember(principal, req.body);
    const authInfo: AuthInfo = {
      token: bearerToken(req.headers.authorization),
      clientId: principal.agentId,
      scopes: principal.scopes,
      expiresAt: principal.expiresAt,
      extra: {
        principal,
        [HOST_FACTS_KEY]: { clientAddress: req.ip, clientPort: req.socket.remotePort, httpVersion: req.raw.httpVersion, client: clients.lookup(principal) },
      },
    };
    return v2Handler ? serveV2(req, reply, authInfo) : serveV1(req, reply, authInfo);
  });

  // Stateless: no standalone SSE stream and no session to delete.
  const methodNotAllowed = async (_req: FastifyRequest, reply: FastifyReply) =>
    reply
      .code(405)
      .header('allow', 'POST')
      .send({ jsonrpc: '2.0', error: { code: -32000, message: 'Method not allowed.' }, id: null });
  app.get(path, methodNotAllowed);
  app.delete(path, methodNotAllowed);

  const logCloseError = (what: string) => (err: unknown) => logger?.error({ ...errorFields(err), closing: what }, 'mcp_close_error');

  async function serveV1(req: FastifyRequest, reply: FastifyReply, authInfo: AuthInfo) {
    const pending = made();
    const server = isPromise(pending) ? await pending : pending;
    const transport: NodeTransport = new v1!.StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    reply.raw.on('close', () => {
      transport.close().catch(logCloseError('transport'));
      server.close().catch(logCloseError('server'));
    });
    await server.connect(transport);
    (req.raw as typeof req.raw & { auth?: AuthInfo }).auth = authInfo;
    reply.hijack();
    try {
      await transport.handleRequest(req.raw, reply.raw, req.body);
    } catch (err) {
      logger?.error(errorFields(err), 'mcp_transport_error');
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
    if (response.status === 400) await recordSdkHeaderRejection(req, response, authInfo.extra.principal);
    return reply.send(response);
  }

  /** The SDK refused a tools/call whose headers disagree with its body (-32020): the refusal gets its record. */
  async function recordSdkHeaderRejection(req: FastifyRequest, response: Response, principal: Principal) {
    const calls = toolsCalls(req.body);
    if (calls.length === 0) return;
    const answer = (await response
      .clone()
      .json()
      .catch(() => undefined)) as { error?: { code?: unknown } } | undefined;
    if (answer?.error?.code !== JSONRPC_HEADER_MISMATCH) return;
    recordRefusal(req.headers, calls, calls[0]!, HEADER_MISMATCH, principal, clients.lookup(principal));
  }

  /** A body that is not the call its headers announced (and the edge acted on): refused, as the spec requires. */
  function rejectMismatch(req: FastifyRequest, reply: FastifyReply, principal: Principal) {
    const calls = toolsCalls(req.body);
    const unread = calls.length === 0;
    if (unread) recordUnread(req, principal, HEADER_MISMATCH);
    else recordRefusal(req.headers, calls, calls[0]!, HEADER_MISMATCH, principal, clients.lookup(principal));
    return reply.code(400).send({
      jsonrpc: '2.0',
      error: { code: JSONRPC_HEADER_MISMATCH, message: 'Bad Request: the request headers and body disagree (MCP-Protocol-Version, Mcp-Method and Mcp-Name must name the body\'s call).' },
      id: singleId(req.body),
    });
  }

  /** The record of a request refused from its headers alone (its body unread, or not the call it claimed to be). */
  function recordUnread(req: FastifyRequest, principal: Principal, refusal: Parameters<typeof recordRefusal>[3]) {
    const name = req.headers['mcp-name'];
    const method = req.headers['mcp-method'];
    const announced = { method: 'tools/call' as const, params: { name: typeof name === 'string' ? name : '' } };
    const mcpMethod = typeof method === 'string' ? method.slice(0, 64) : '';
    // A 2026-07-28 request carries one message: a tools/call it announced is one call; anything else, none known.
    recordRefusal(req.headers, [announced], announced, refusal, principal, clients.lookup(principal), { mcpMethod, callsInRequest: mcpMethod === 'tools/call' ? 1 : 0 });
  }

  const recordRefusal = refusalRecorder({
    service,
    sink,
    tracer,
    tools: policies.tools,
    defaults: policies.defaults,
    isRegistered: (name) => registered.has(name) || (policies.tools !== undefined && Object.prototype.hasOwnProperty.call(policies.tools, name)),
  });

  function rejectUnauthenticated(req: FastifyRequest, reply: FastifyReply, err: AuthError) {
    // One record for the request, however many calls it carried.
    const calls = toolsCalls(req.body);
    if (calls.length > 0) recordRefusal(req.headers, calls, calls[0]!, { outcome: 'unauthenticated', errorClass: 'AuthError', errorCode: err.code, rateLimitBudget: '', rpcCode: -32001 });
    return reply
      .code(401)
      .header('www-authenticate', wwwAuthenticate(err, { resourceMetadataUrl: metadataUrlOf(req) }))
      .send({ jsonrpc: '2.0', error: { code: -32001, message: err.message, data: { reason: err.code } }, id: singleId(req.body) });
  }

  /** Scope and edge budgets for the request's tools/call messages; a refusal is recorded once, for the whole request. */
  async function checkToolCalls(req: FastifyRequest, principal: Principal) {
    const calls = toolsCalls(req.body);
    if (calls.length === 0) return undefined;
    const refused = await checkRequestCalls(calls, toolName, principal, instr.policyOf, opts.edgeLimits, metadataUrlOf(req));
    if (refused) recordRefusal(req.headers, calls, refused.message, { ...refused.refusal, rpcCode: refused.refusal.error.code }, principal, clients.lookup(principal));
    return refused;
  }

  endpoints.set(path, instr);
  if (!app.hasDecorator('mcptrail')) {
    const sinks = () => [...new Set([...endpoints.values()].map((i) => i.sink()))];
    app.decorate('mcptrail', {
      endpoints,
      flush: async () => {
        await Promise.all(sinks().map((s) => s.flush()));
      },
    } satisfies McpFastifyDecoration);
    // The app closes: records of the calls it answered are shipped (a spool keeps what the collector did not take).
    app.addHook('onClose', async () => {
      await Promise.all(sinks().map((s) => s.flush()));
    });
  }
  // The per-minute summary of requests refused unread.
  app.addHook('onClose', async () => edge.flush());
}

/**
 * The fastify plugin (fastify-plugin conventions: named, fastify 5.x, not
 * encapsulated so `app.mcptrail` is visible to the app). Mount it into an
 * existing app: `await app.register(mcptrailFastify, { serverFactory, authenticator, tools })`.
 */
export const mcptrailFastify: FastifyPluginAsync<McpFastifyOptions> = fp(mcptrailPlugin, { name: 'mcptrail', fastify: '5.x' });

/** A fastify app with only the MCP endpoint: the plugin mounted into a fresh instance. */
export async function createMcpHttpApp(opts: McpHttpAppOptions): Promise<FastifyInstance> {
  const app = Fastify({ bodyLimit: opts.bodyLimit ?? 4 * 1024 * 1024 });
  await app.register(mcptrailFastify, opts);
  return app;
}

function isPromise<T>(v: T | Promise<T>): v is Promise<T> {
  return typeof (v as { then?: unknown } | null)?.then === 'function';
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
