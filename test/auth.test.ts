import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { AuthError, createAuthenticator, protectedResourceMetadata, protectedResourceMetadataUrl, wwwAuthenticate, type Authenticator } from '../packages/mcptrail/src/auth/index.js';
import {
  AUDIENCE,
  ISSUER,
  mintHs256,
  newSigningKey,
  sign,
  standardClaims,
  startJwksServer,
  type JwksServer,
  type SigningKey,
} from './support/auth-keys.js';

const SECRET = 'test-secret-that-is-long-enough-for-hs256-0123456789';
const RESOURCE_METADATA = 'https://mcp.test/.well-known/oauth-protected-resource/mcp';

/** Asserts rejection with `code`, and that neither the error nor its challenge leaks the token. */
async function rejects(auth: Authenticator, token: string, code: string): Promise<void> {
  const err = await auth.authenticate(`Bearer ${token}`).then(
    () => assert.fail('expected the token to be rejected'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof AuthError, `expected AuthError, got ${String(err)}`);
  assert.equal(err.code, code);
  const challenge = wwwAuthenticate(err, { resourceMetadataUrl: RESOURCE_METADATA });
  for (const text of [err.message, String(err), err.stack ?? '', JSON.stringify(err), challenge]) {
    assert.ok(!text.includes(token), 'token leaked into error or challenge');
    // Not even a recognisable piece of it (the signature segment).
    assert.ok(!text.includes(token.split('.').at(-1)!.slice(0, 12) || token.slice(-12)));
  }
  assert.match(challenge, /^Bearer error="invalid_token", error_description="[^"]+", resource_metadata="https:\/\/mcp\.test\//);
}

describe('HS256 JWT', () => {
  const auth = createAuthenticator({ jwt: { secret: SECRET, issuer: ISSUER, audience: AUDIENCE } });

  test('a valid token yields the principal from its claims', async () => {
    const token = await mintHs256(SECRET, standardClaims());
    const p = await auth.authenticate(`Bearer ${token}`);
    assert.equal(p.method, 'jwt');
    assert.equal(p.tenantId, 'tenant-a');
    assert.equal(p.agentId, 'agent-1');
    assert.equal(p.subject, 'user-1');
    assert.deepEqual(p.scopes, ['crm:read', 'crm:write']);
    assert.ok(p.expiresAt && p.expiresAt > Date.now() / 1000);
  });

  test('agent falls back to azp then client_id; scp array gives scopes', async () => {
    const azp = await mintHs256(SECRET, { tenant_id: 't', azp: 'from-azp', scp: ['a', 'b'] });
    const p1 = await auth.authenticate(`Bearer ${azp}`);
    assert.equal(p1.agentId, 'from-azp');
    assert.deepEqual(p1.scopes, ['a', 'b']);
    const clientId = await mintHs256(SECRET, { tenant_id: 't', client_id: 'from-client-id' });
    assert.equal((await auth.authenticate(`Bearer ${clientId}`)).agentId, 'from-client-id');
  });

  test('expired', async () => {
    const token = await mintHs256(SECRET, standardClaims(), { exp: Math.floor(Date.now() / 1000) - 120 });
    await rejects(auth, token, 'expired_token');
  });

  test('wrong audience', async () => {
    await rejects(auth, await mintHs256(SECRET, standardClaims(), { audience: 'https://other.test/mcp' }), 'wrong_audience');
  });

  test('wrong issuer', async () => {
    await rejects(auth, await mintHs256(SECRET, standardClaims(), { issuer: 'https://evil.test' }), 'invalid_token');
  });

  test('bad signature', async () => {
    await rejects(auth, await mintHs256('another-secret-of-sufficient-length-0123456789', standardClaims()), 'bad_signature');
  });

  test('a tampered payload fails the signature', async () => {
    const [h, , s] = (await mintHs256(SECRET, standardClaims())).split('.');
    const forged = Buffer.from(JSON.stringify({ ...standardClaims({ tenant_id: 'tenant-b' }), iss: ISSUER, aud: AUDIENCE, exp: 9e9 })).toString('base64url');
    await rejects(auth, `${h}.${forged}.${s}`, 'bad_signature');
  });

  test('missing tenant claim', async () => {
    const claims = standardClaims();
    delete claims.tenant_id;
    await rejects(auth, await mintHs256(SECRET, claims), 'missing_claims');
  });

  test('missing agent claim', async () => {
    await rejects(auth, await mintHs256(SECRET, { sub: 'x', tenant_id: 't' }), 'missing_claims');
  });

  test('missing and malformed headers', async () => {
    await assert.rejects(auth.authenticate(undefined), (e: unknown) => e instanceof AuthError && e.code === 'missing_token');
    await assert.rejects(auth.authenticate('Basic dXNlcjpwYXNz'), (e: unknown) => e instanceof AuthError && e.code === 'invalid_token');
    // An API-key-shaped token with no API keys configured.
    await rejects(auth, 'sk-live-abcdefghijklmnop', 'invalid_token');
  });
});

describe('RS256 / ES256 via a JWKS endpoint', () => {
  let rsa: SigningKey;
  let ec: SigningKey;
  let stranger: SigningKey;
  let jwks: JwksServer;
  let auth: Authenticator;

  before(async () => {
    rsa = await newSigningKey('RS256', 'rsa-1');
    ec = await newSigningKey('ES256', 'ec-1');
    stranger = await newSigningKey('RS256', 'not-published');
    jwks = await startJwksServer([rsa, ec]);
    auth = createAuthenticator({ jwt: { jwksUrl: jwks.url, issuer: ISSUER, audience: AUDIENCE } });
  });
  after(() => jwks.close());

  test('RS256 token verifies against the published key', async () => {
    const token = await sign(rsa.privateKey, 'RS256', standardClaims(), { kid: rsa.kid });
    assert.equal((await auth.authenticate(`Bearer ${token}`)).tenantId, 'tenant-a');
  });

  test('ES256 token verifies against the published key', async () => {
    const token = await sign(ec.privateKey, 'ES256', standardClaims({ agent_id: 'ec-agent' }), { kid: ec.kid });
    assert.equal((await auth.authenticate(`Bearer ${token}`)).agentId, 'ec-agent');
  });

  test('unknown kid', async () => {
    await rejects(auth, await sign(stranger.privateKey, 'RS256', standardClaims(), { kid: stranger.kid }), 'unknown_key');
  });

  test('known kid, wrong key: bad signature', async () => {
    await rejects(auth, await sign(stranger.privateKey, 'RS256', standardClaims(), { kid: rsa.kid }), 'bad_signature');
  });

  test('an HS256 token is refused when only asymmetric keys are configured', async () => {
    await rejects(auth, await mintHs256(SECRET, standardClaims()), 'invalid_token');
  });
});

describe('API keys', () => {
  const KEY = 'mk_live_3f9a7c1e5b2d4f6a8c0e';
  const auth = createAuthenticator({
    apiKeys: { [KEY]: { agentId: 'batch-agent', tenantId: 'tenant-k', scopes: ['crm:read'] } },
  });

  test('a known key yields its principal', async () => {
    const p = await auth.authenticate(`Bearer ${KEY}`);
    assert.deepEqual(
      { ...p },
      { tenantId: 'tenant-k', agentId: 'batch-agent', subject: 'batch-agent', scopes: ['crm:read'], method: 'api_key' },
    );
  });

  test('an unknown key is refused without echoing it', async () => {
    await rejects(auth, 'mk_live_3f9a7c1e5b2d4f6a8c0f', 'invalid_token');
  });

  test('a JWT is not looked up as an API key', async () => {
    await rejects(auth, await mintHs256(SECRET, standardClaims()), 'invalid_token');
  });
});

describe('challenges and metadata', () => {
  test('missing token: no error code (RFC 6750 §3.1), resource_metadata present', () => {
    assert.equal(
      wwwAuthenticate(new AuthError('missing_token'), { resourceMetadataUrl: RESOURCE_METADATA }),
      `Bearer resource_metadata="${RESOURCE_METADATA}"`,
    );
  });

  test('protected resource metadata (RFC 9728)', () => {
    assert.deepEqual(protectedResourceMetadata({ resource: AUDIENCE, authorizationServers: [ISSUER], scopesSupported: ['crm:read'] }), {
      resource: AUDIENCE,
      authorization_servers: [ISSUER],
      scopes_supported: ['crm:read'],
      bearer_methods_supported: ['header'],
    });
    assert.equal(protectedResourceMetadataUrl('https://mcp.test/mcp'), RESOURCE_METADATA);
    assert.equal(protectedResourceMetadataUrl('https://mcp.test/'), 'https://mcp.test/.well-known/oauth-protected-resource');
  });
});
