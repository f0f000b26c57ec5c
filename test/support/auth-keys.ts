/** Real keys, tokens and a real JWKS endpoint for auth tests. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type JWTPayload } from 'jose';

export const ISSUER = 'https://issuer.test';
export const AUDIENCE = 'https://mcp.test/mcp';

export interface TokenOptions {
  issuer?: string;
  audience?: string;
  expiresIn?: string | number;
  /** Seconds since epoch; overrides expiresIn. */
  exp?: number;
  kid?: string;
}

export function standardClaims(extra: JWTPayload = {}): JWTPayload {
  return { sub: 'user-1', tenant_id: 'tenant-a', agent_id: 'agent-1', scope: 'crm:read crm:write', ...extra };
}

export async function mintHs256(secret: string, claims: JWTPayload, opts: TokenOptions = {}): Promise<string> {
  return sign(new TextEncoder().encode(secret), 'HS256', claims, opts);
}

export async function sign(key: Parameters<SignJWT['sign']>[0], alg: string, claims: JWTPayload, opts: TokenOptions = {}): Promise<string> {
  const jwt = new SignJWT(claims)
    .setProtectedHeader({ alg, ...(opts.kid ? { kid: opts.kid } : {}) })
    .setIssuer(opts.issuer ?? ISSUER)
    .setAudience(opts.audience ?? AUDIENCE)
    .setIssuedAt();
  if (opts.exp !== undefined) jwt.setExpirationTime(opts.exp);
  else jwt.setExpirationTime(opts.expiresIn ?? '5m');
  return jwt.sign(key);
}

export interface SigningKey {
  kid: string;
  alg: 'RS256' | 'ES256';
  privateKey: CryptoKey;
  publicJwk: Record<string, unknown>;
}

export async function newSigningKey(alg: 'RS256' | 'ES256', kid: string): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { kid, alg, privateKey, publicJwk };
}

export interface JwksServer {
  url: string;
  close(): Promise<void>;
}

/** Serves `{ keys }` at /jwks.json on 127.0.0.1, port 0. */
export async function startJwksServer(keys: SigningKey[]): Promise<JwksServer> {
  const body = JSON.stringify({ keys: keys.map((k) => k.publicJwk) });
  const server = http.createServer((req, res) => {
    if (req.url === '/jwks.json') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(body);
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/jwks.json`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
