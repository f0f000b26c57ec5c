/**
 * Who may ask the audit MCP server: the collector's read tokens
 * (MCPTRAIL_READ_TOKEN, MCPTRAIL_READ_TOKENS) as bearer tokens, through the
 * library's Authenticator interface. A tenant token becomes a principal of
 * its tenant with the read scope; the operator token (or an operator entry)
 * also gets the all-tenants scope. The agent id names the token by a short
 * fingerprint, so the trail says which token asked without storing it.
 *
 * With no read token configured, reads are open (as /api is), and the MCP
 * route additionally admits loopback peers only (open-mode.ts).
 */
import { AuthError, type Authenticator, type Principal } from 'mcptrail/auth';
import { tokenDigest } from '../collector/auth.js';
import type { ReadScope, ReadTokens } from '../collector/read-scope.js';

/** Every audit tool needs it; every read token has it. */
export const AUDIT_READ_SCOPE = 'audit:read';
/** Reads every tenant: the operator's. */
export const ALL_TENANTS_SCOPE = 'audit:all_tenants';

/** The principal of open mode (no read token configured): an operator, on loopback only. */
export const OPEN_MODE_AGENT = 'loopback';

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;

export function readTokenAuthenticator(tokens: ReadTokens): Authenticator {
  return {
    async authenticate(header) {
      // Open: whatever is presented (a client may still send a stale token) reads as the operator.
      if (tokens.open) return principal(undefined, { operator: true }, 'none');
      if (!header) throw new AuthError('missing_token');
      const token = BEARER.exec(header)?.[1];
      if (!token) throw new AuthError('invalid_token');
      const scope = tokens.scopeFor(token);
      if (!scope) throw new AuthError('invalid_token');
      return principal(token, scope, 'api_key');
    },
  };
}

function principal(token: string | undefined, scope: ReadScope, method: Principal['method']): Principal {
  const operator = 'operator' in scope;
  return {
    // The operator reads across tenants: its own calls belong to none.
    tenantId: operator ? '' : scope.tenant,
    agentId: token === undefined ? OPEN_MODE_AGENT : `read-token:${fingerprint(token)}`,
    subject: operator ? 'operator' : `tenant:${scope.tenant}`,
    scopes: operator ? [AUDIT_READ_SCOPE, ALL_TENANTS_SCOPE] : [AUDIT_READ_SCOPE],
    method,
  };
}

/**
 * 32 bits of the token's SHA-256: tells the configured tokens apart in the
 * trail (which one to rotate). A tenant's reader sees only its tenant's
 * fingerprints; as with any fingerprint, guesses could be tested against it,
 * which is why read tokens are long random strings (16+ characters enforced).
 */
function fingerprint(token: string): string {
  return tokenDigest(token).subarray(0, 4).toString('hex');
}
