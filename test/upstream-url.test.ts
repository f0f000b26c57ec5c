/**
 * Upstream URLs as telemetry records them (runtime/url.ts): a template is
 * recorded as the template; a plain path keeps only fixed-looking segments.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildUpstreamUrl, redactPath, sanitizeUrl } from '../packages/mcptrail/src/runtime/url.js';

const base = new URL('http://user:pw@crm.test:8080/api/');

test('a path template is filled (encoded) on the wire and recorded as the template', () => {
  const u = buildUpstreamUrl(base, '/v1/deals/{id}/notes/{note}', { id: 'sk_live_abcdefgh12345678', note: 'a b/c' }, { q: 'ada@example.com' });
  // Userinfo never goes on the wire either (fetch refuses it): credentials belong in headers.
  assert.equal(u.url.href, 'http://crm.test:8080/api/v1/deals/sk_live_abcdefgh12345678/notes/a%20b%2Fc?q=ada%40example.com');
  assert.equal(u.recorded, 'http://crm.test:8080/api/v1/deals/{id}/notes/{note}?q=REDACTED');
  assert.equal(u.template, '/api/v1/deals/{id}/notes/{note}');
  assert.throws(() => buildUpstreamUrl(base, '/v1/deals/{id}', {}, undefined), /parameter "id" is missing/);
});

test('a plain path: every segment that is not a fixed-looking literal is redacted', () => {
  const cases: [string, string][] = [
    ['/v1/deals/D-1', '/v1/deals/REDACTED'],
    ['/v2/contacts/12345', '/v2/contacts/REDACTED'],
    ['/v1/users/ada@example.com/profile', '/v1/users/REDACTED/profile'],
    ['/v1/keys/sk_live_abcdefghijkl', '/v1/keys/REDACTED'],
    ['/v1/keys/sk_abcdefghijklmnop', '/v1/keys/REDACTED'],
    ['/v1/items/6f9619ff-8b86-4011-b42d-00c04fc964ff', '/v1/items/REDACTED'],
    ['/v1/Accounts/ABC', '/v1/REDACTED/REDACTED'],
    ['/oauth/token', '/oauth/token'],
    ['/v1/leaky-error', '/v1/leaky-error'],
    ['/v1/a%20b', '/v1/REDACTED'],
  ];
  for (const [path, recorded] of cases) {
    assert.equal(redactPath(path), recorded, path);
    assert.equal(buildUpstreamUrl(base, path, undefined, undefined).recorded, `http://crm.test:8080${redactPath(`/api${path}`)}`);
  }
  assert.equal(sanitizeUrl(new URL('http://u:p@h/x/42?a=1&a=2#frag')), 'http://h/x/REDACTED?a=REDACTED&a=REDACTED');
});
