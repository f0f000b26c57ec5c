/**
 * An OAuth 2.0 refresh_token grant client (RFC 6749 §6) for the credential
 * store: form-encoded POST to the token endpoint, failures mapped to reason
 * classes. The endpoint's error text is never kept: providers echo tokens in it.
 */
import { RefreshError, type RefreshFn } from 'mcptrail/runtime';

export interface OAuthRefreshOptions {
  tokenUrl: string;
  clientId?: string;
  clientSecret?: string;
}

export function oauthRefresh(opts: OAuthRefreshOptions): RefreshFn {
  return async (_tenantId, refreshToken, signal) => {
    const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken });
    if (opts.clientId) form.set('client_id', opts.clientId);
    if (opts.clientSecret) form.set('client_secret', opts.clientSecret);
    let res: Response;
    try {
      res = await fetch(opts.tokenUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: form,
        signal,
      });
    } catch (err) {
      throw new RefreshError((err as Error)?.name === 'TimeoutError' || signal.aborted ? 'timeout' : 'network');
    }
    const body = (await res.json().catch(() => ({}))) as { access_token?: unknown; refresh_token?: unknown; expires_in?: unknown; error?: unknown };
    if (!res.ok) {
      if (res.status >= 500) throw new RefreshError('upstream_5xx');
      if (body.error === 'invalid_grant') throw new RefreshError('invalid_grant');
      throw new RefreshError(res.status === 401 || res.status === 403 || body.error === 'invalid_client' ? 'revoked' : 'unknown');
    }
    if (typeof body.access_token !== 'string' || typeof body.expires_in !== 'number') throw new RefreshError('unknown');
    return {
      accessToken: body.access_token,
      refreshToken: typeof body.refresh_token === 'string' ? body.refresh_token : undefined,
      expiresAt: Date.now() + body.expires_in * 1000,
    };
  };
}
