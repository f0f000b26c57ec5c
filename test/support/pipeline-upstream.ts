/**
 * A real local upstream for pipeline tests: an OAuth token endpoint with
 * rotating refresh tokens and short-lived access tokens, and API routes that
 * script the failures the pipeline must handle. It keeps every request's
 * headers so tests can check what crossed the wire.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Seen {
  method: string;
  path: string;
  tenantId: string;
  status: number;
  headers: IncomingHttpHeaders;
  at: number;
}

export interface PipelineUpstream {
  url: string;
  seen: Seen[];
  /** POST /oauth/token hits per tenant (successful or not). */
  tokenHits: Map<string, number>;
  /** Executions of POST /v1/writes per Idempotency-Key (replays of a seen key don't count). */
  writeExecutions: Map<string, number>;
  /** A fresh refresh token for the tenant (what an operator's "connect" would yield). */
  grant(tenantId: string): string;
  /** Refresh and access tokens of the tenant stop working. */
  revoke(tenantId: string): void;
  /** Drops the tenant's access tokens (as on a key rotation): the next API call gets a 401. */
  expireAccessTokens(tenantId: string): void;
  /** Tenants whose /v1/flaky answers 503. */
  failing: Set<string>;
  close(): Promise<void>;
}

export async function startPipelineUpstream(opts: { canary: string; accessTtlMs?: number; tokenLatencyMs?: number; writeLatencyMs?: number }): Promise<PipelineUpstream> {
  // Above the credential store's 60 s refresh skew, or every call would refresh.
  const accessTtlMs = opts.accessTtlMs ?? 600_000;
  const refreshTokens = new Map<string, string>(); // token → tenant
  const accessTokens = new Map<string, { tenantId: string; expiresAt: number }>();
  const seen: Seen[] = [];
  const tokenHits = new Map<string, number>();
  const writeExecutions = new Map<string, number>();
  const writeResults = new Map<string, unknown>();
  const failing = new Set<string>();
  const revoked = new Set<string>();
  let writeSeq = 0;

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => void handle(Buffer.concat(chunks).toString('utf8')));

    async function handle(body: string): Promise<void> {
      const url = new URL(req.url ?? '/', 'http://upstream');
      const bearer = (req.headers.authorization ?? '').replace(/^Bearer /, '');
      const access = accessTokens.get(bearer);
      const tenantId = access && access.expiresAt > Date.now() && !revoked.has(access.tenantId) ? access.tenantId : '';
      const send = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
        seen.push({ method: req.method ?? '', path: url.pathname, tenantId, status, headers: req.headers, at: Date.now() });
        res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(payload));
      };

      if (url.pathname === '/oauth/token' && req.method === 'POST') {
        const form = new URLSearchParams(body);
        const rt = form.get('refresh_token') ?? '';
        const owner = refreshTokens.get(rt);
        const key = owner ?? '?';
        tokenHits.set(key, (tokenHits.get(key) ?? 0) + 1);
        if (opts.tokenLatencyMs) await sleep(opts.tokenLatencyMs);
        if (form.get('grant_type') !== 'refresh_token' || !owner || revoked.has(owner)) {
          // Providers echo the presented token in errors: it must never travel further.
          return send(400, { error: 'invalid_grant', error_description: `refresh token ${rt} is not valid` });
        }
        refreshTokens.delete(rt);
        const next = newToken('rt');
        refreshTokens.set(next, owner);
        const at = newToken('at');
        accessTokens.set(at, { tenantId: owner, expiresAt: Date.now() + accessTtlMs });
        return send(200, { access_token: at, token_type: 'Bearer', expires_in: Math.round(accessTtlMs / 1000), refresh_token: next });
      }

      if (!tenantId) return send(401, { error: 'invalid_token' }, { 'www-authenticate': 'Bearer error="invalid_token"' });

      switch (`${req.method} ${url.pathname}`) {
        case 'GET /v1/contacts':
          return send(200, {
            contacts: [
              { id: 'C-1', name: 'Ada', internal_token: opts.canary },
              { id: 'C-2', name: 'Grace', internal_token: opts.canary },
            ],
            sync_cursor: opts.canary,
          });
        case 'GET /v1/leaky-error':
          return send(500, { error: 'internal', debug: `session=${opts.canary}` });
        case 'GET /v1/throttled':
          return send(429, { error: 'rate_limited' }, { 'retry-after': '1' });
        case 'GET /v1/flaky':
          return failing.has(tenantId) ? send(503, { error: 'unavailable' }) : send(200, { ok: true, tenant: tenantId });
        case 'POST /v1/writes': {
          const key = String(req.headers['idempotency-key'] ?? '');
          if (key && writeResults.has(`${tenantId}:${key}`)) return send(200, writeResults.get(`${tenantId}:${key}`));
          writeExecutions.set(key, (writeExecutions.get(key) ?? 0) + 1);
          await sleep(opts.writeLatencyMs ?? 150);
          const result = { write: { id: `W-${++writeSeq}`, tenant: tenantId, input: JSON.parse(body || '{}') } };
          if (key) writeResults.set(`${tenantId}:${key}`, result);
          return send(201, result);
        }
        default:
          return send(404, { error: 'not_found' });
      }
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    tokenHits,
    writeExecutions,
    failing,
    grant(tenantId) {
      revoked.delete(tenantId);
      const rt = newToken('rt');
      refreshTokens.set(rt, tenantId);
      return rt;
    },
    revoke(tenantId) {
      revoked.add(tenantId);
    },
    expireAccessTokens(tenantId) {
      for (const [t, a] of accessTokens) if (a.tenantId === tenantId) accessTokens.delete(t);
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

const newToken = (kind: string) => `${kind}_${randomBytes(18).toString('base64url')}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
