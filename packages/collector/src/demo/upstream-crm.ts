/**
 * A stand-in for a customer's CRM: the one part of the demo that cannot be
 * real here. It behaves like one where it matters to the trail — per-tenant
 * OAuth (a token endpoint with rotating refresh tokens and short-lived access
 * tokens, and a "revoked" switch), latency with a long tail, occasional 503s
 * and 429s with Retry-After, Idempotency-Key honoured on deal updates (not on
 * refunds), internal fields in its answers that agents must never see — and
 * it remembers the trace headers it received so a test can check that trace
 * context really crossed the wire.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomBytes, randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';

export interface UpstreamCrmOptions {
  /** Tenants with an account; each gets a refresh token through `grant()`. */
  tenants: readonly string[];
  /** Access-token lifetime (default 90 s: short, so refreshes really happen). */
  accessTokenTtlMs?: number;
  /** Probability of a 503 per request (default 0.03). */
  failureRate?: number;
  /** Probability of a 429 with Retry-After per request (default 0.01). */
  throttleRate?: number;
  /** Median latency in ms (default 40). */
  latencyMs?: number;
  /** Deterministic randomness for tests. */
  random?: () => number;
}

export interface ReceivedRequest {
  at: string;
  method: string;
  path: string;
  tenantId: string;
  status: number;
  traceparent: string;
  requestId: string;
  idempotencyKey: string;
}

/** A staged degradation of one tenant's integration. */
export interface TenantFault {
  /** Added to the share `slowShare` (default all) of the tenant's requests. */
  extraLatencyMs?: number;
  slowShare?: number;
  failureRate?: number;
}

export interface UpstreamCrm {
  server: Server;
  url: string;
  /** The most recent requests (bounded), newest last. */
  received: ReceivedRequest[];
  /** Per-tenant overrides so incidents can be staged: extra latency or forced failures. */
  setTenantFault(tenantId: string, fault: TenantFault | undefined): void;
  /** Connects the tenant (as an admin's OAuth consent would): a fresh refresh token, un-revoking it. */
  grant(tenantId: string): string;
  /** The "revoked" switch: the tenant's refresh and access tokens stop working until the next grant. */
  revoke(tenantId: string): void;
  /** POST /oauth/token requests per tenant ('?' for unknown refresh tokens). */
  tokenRequests: Map<string, number>;
  close(): Promise<void>;
}

const MAX_RECEIVED = 5_000;

interface Deal {
  id: string;
  stage: string;
  amount: number;
  version: number;
}

export async function startUpstreamCrm(
  opts: UpstreamCrmOptions,
  listen: { host?: string; port?: number } = {},
): Promise<UpstreamCrm> {
  const random = opts.random ?? Math.random;
  const accessTtlMs = opts.accessTokenTtlMs ?? 90_000;
  const accounts = new Set(opts.tenants);
  const refreshTokens = new Map<string, string>(); // refresh token → tenant
  const accessTokens = new Map<string, { tenant: string; expiresAt: number }>();
  const revoked = new Set<string>();
  const tokenRequests = new Map<string, number>();
  const tenantOf = (bearer: string): string => {
    const a = accessTokens.get(bearer);
    if (!a) return '';
    if (a.expiresAt <= Date.now() || revoked.has(a.tenant)) {
      accessTokens.delete(bearer);
      return '';
    }
    return a.tenant;
  };
  const faults = new Map<string, TenantFault>();
  const received: ReceivedRequest[] = [];
  const deals = new Map<string, Map<string, Deal>>();
  const idempotent = new Map<string, { status: number; body: unknown }>();
  let refundSeq = 0;

  const dealsOf = (tenant: string): Map<string, Deal> => {
    let m = deals.get(tenant);
    if (!m) {
      m = new Map();
      for (let i = 1; i <= 50; i++) m.set(`D-${i}`, { id: `D-${i}`, stage: 'qualified', amount: 1000 * i, version: 1 });
      deals.set(tenant, m);
    }
    return m;
  };

  // Log-normal-ish latency: mostly near the median, with a long tail.
  const latency = (tenant: string): number => {
    const base = opts.latencyMs ?? 40;
    const u = Math.max(random(), 1e-9);
    const tail = Math.exp(Math.sqrt(-2 * Math.log(u)) * 0.5) - 1;
    const fault = faults.get(tenant);
    const slowed = fault?.extraLatencyMs && random() < (fault.slowShare ?? 1) ? fault.extraLatencyMs : 0;
    return base * (0.6 + tail) + slowed;
  };

  const server = createServer((req, res) => {
    void handle(req, res);
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://upstream');
    const auth = req.headers.authorization ?? '';
    const body = await readBody(req);
    const tenant = url.pathname === '/oauth/token' ? '' : tenantOf(auth.replace(/^Bearer /, ''));
    const record = (status: number): void => {
      received.push({
        at: new Date().toISOString(),
        method: req.method ?? '',
        path: url.pathname,
        tenantId: tenant,
        status,
        traceparent: String(req.headers.traceparent ?? ''),
        requestId: String(req.headers['x-request-id'] ?? ''),
        idempotencyKey: String(req.headers['idempotency-key'] ?? ''),
      });
      if (received.length > MAX_RECEIVED) received.splice(0, received.length - MAX_RECEIVED);
    };
    const send = (status: number, payload: unknown, headers: Record<string, string> = {}): void => {
      record(status);
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(payload));
    };

    if (url.pathname === '/_debug/requests' && req.method === 'GET') {
      const trace = url.searchParams.get('trace_id');
      const rows = trace ? received.filter((r) => r.traceparent.split('-')[1] === trace) : received.slice(-100);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ requests: rows }));
      return;
    }
    if (url.pathname === '/oauth/token' && req.method === 'POST') {
      // RFC 6749 §6 refresh, with rotation: each refresh token works once.
      const form = new URLSearchParams(body);
      const presented = form.get('refresh_token') ?? '';
      const owner = refreshTokens.get(presented);
      tokenRequests.set(owner ?? '?', (tokenRequests.get(owner ?? '?') ?? 0) + 1);
      if (form.get('grant_type') !== 'refresh_token' || !owner || revoked.has(owner)) {
        return send(400, { error: 'invalid_grant', error_description: 'The refresh token is invalid, expired or revoked.' });
      }
      refreshTokens.delete(presented);
      const refreshToken = newToken('crm_rt');
      refreshTokens.set(refreshToken, owner);
      const accessToken = newToken('crm_at');
      accessTokens.set(accessToken, { tenant: owner, expiresAt: Date.now() + accessTtlMs });
      return send(200, { access_token: accessToken, token_type: 'Bearer', expires_in: Math.round(accessTtlMs / 1000), refresh_token: refreshToken });
    }
    if (!tenant) return send(401, { error: 'invalid_token' }, { 'www-authenticate': 'Bearer error="invalid_token"' });

    await sleep(latency(tenant));
    const fault = faults.get(tenant);
    if (random() < (fault?.failureRate ?? opts.failureRate ?? 0.03)) return send(503, { error: 'service_unavailable' });
    if (random() < (opts.throttleRate ?? 0.01)) return send(429, { error: 'rate_limited' }, { 'retry-after': '1' });

    const contactSearch = url.pathname === '/v1/contacts' && req.method === 'GET';
    const dealMatch = /^\/v1\/deals\/([\w-]+)$/.exec(url.pathname);
    if (contactSearch) {
      const q = (url.searchParams.get('q') ?? '').toLowerCase();
      const limit = Math.min(Number(url.searchParams.get('limit') ?? 10) || 10, 50);
      const contacts = Array.from({ length: limit }, (_, i) => ({
        id: `C-${tenant}-${i + 1}`,
        name: `${q || 'contact'} ${i + 1}`,
        email: `${(q || 'contact').replace(/\W/g, '')}${i + 1}@${tenant}.example`,
        company: `${tenant} customer ${i + 1}`,
        // Internal fields a real CRM returns and an agent must never see.
        owner_api_token: newToken('crm_int'),
      }));
      return send(200, { contacts, sync_token: newToken('crm_sync') });
    }
    if (dealMatch && req.method === 'GET') {
      const deal = dealsOf(tenant).get(dealMatch[1]);
      return deal ? send(200, { deal }) : send(404, { error: 'deal_not_found' });
    }
    if (dealMatch && req.method === 'PATCH') {
      const key = String(req.headers['idempotency-key'] ?? '');
      const cacheKey = `${tenant}:${key}`;
      if (key && idempotent.has(cacheKey)) {
        const prior = idempotent.get(cacheKey)!;
        return send(prior.status, prior.body, { 'idempotent-replayed': 'true' });
      }
      const deal = dealsOf(tenant).get(dealMatch[1]);
      if (!deal) return send(404, { error: 'deal_not_found' });
      const patch = parseJson(body) as Partial<Deal> | undefined;
      if (!patch || (patch.stage === undefined && patch.amount === undefined)) return send(422, { error: 'nothing_to_update' });
      if (patch.stage !== undefined) deal.stage = String(patch.stage);
      if (patch.amount !== undefined) deal.amount = Number(patch.amount);
      deal.version++;
      const result = { deal };
      if (key) idempotent.set(cacheKey, { status: 200, body: result });
      return send(200, result);
    }
    if (url.pathname === '/v1/refunds' && req.method === 'POST') {
      // Not idempotent: every POST issues a new refund, which is why the MCP
      // server must never retry this call blindly.
      const input = parseJson(body) as { deal_id?: string; amount?: number } | undefined;
      if (!input?.deal_id || !(Number(input.amount) > 0)) return send(422, { error: 'invalid_refund' });
      refundSeq++;
      return send(201, { refund: { id: `R-${refundSeq}-${randomUUID().slice(0, 8)}`, deal_id: input.deal_id, amount: Number(input.amount), status: 'issued' } });
    }
    return send(404, { error: 'not_found' });
  }

  await new Promise<void>((resolve) => server.listen(listen.port ?? 0, listen.host ?? '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    server,
    url: `http://${listen.host ?? '127.0.0.1'}:${port}`,
    received,
    setTenantFault: (tenantId, fault) => (fault ? faults.set(tenantId, fault) : faults.delete(tenantId)),
    grant(tenantId) {
      if (!accounts.has(tenantId)) throw new Error(`no CRM account for tenant ${tenantId}`);
      revoked.delete(tenantId);
      const refreshToken = newToken('crm_rt');
      refreshTokens.set(refreshToken, tenantId);
      return refreshToken;
    },
    revoke(tenantId) {
      revoked.add(tenantId);
      for (const [t, owner] of refreshTokens) if (owner === tenantId) refreshTokens.delete(t);
    },
    tokenRequests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > 1_000_000) req.destroy(new Error('body too large'));
      else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function parseJson(text: string): unknown {
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return undefined;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const newToken = (prefix: string) => `${prefix}_${randomBytes(18).toString('base64url')}`;
