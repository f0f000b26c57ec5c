/**
 * Who made a call, in any host. In order:
 * 1. mcptrail's own HTTP host verified the bearer token and attached the
 *    Principal (`authInfo.extra.principal`);
 * 2. another host verified it and set the SDK's standard `authInfo`
 *    (`requireBearerAuth`, or any middleware setting `req.auth`):
 *    `clientId` → agent, `scopes` → scopes, `extra.tenant_id` → tenant,
 *    `extra.sub` → subject, recorded with `auth_method` `bearer`; a
 *    `principal(authInfo)` option maps other shapes;
 * 3. no credential at all (stdio, or HTTP without auth): `auth_method`
 *    `none`, the configured tenant, and as agent the configured one or else
 *    the name the client declared in `initialize`.
 * Identity never comes from tool arguments.
 */
import type { Principal } from '../auth/index.js';

/** The SDK's AuthInfo (`{ token, clientId, scopes, expiresAt?, resource?, extra? }`), read structurally. */
export interface AuthInfoLike {
  token?: unknown;
  clientId?: unknown;
  scopes?: unknown;
  expiresAt?: unknown;
  extra?: Record<string, unknown>;
}

/** What a `principal` option returns; missing fields fall back to the defaults above. */
export interface PrincipalInit {
  tenantId?: string;
  agentId?: string;
  subject?: string;
  scopes?: readonly string[];
}

export interface IdentityOptions {
  /** Maps the SDK's authInfo (undefined for calls without one, e.g. stdio) to the caller. */
  principal?: (authInfo: AuthInfoLike | undefined) => PrincipalInit | undefined;
  /** Tenant of calls whose credential names none (stdio; authInfo without `extra.tenant_id`). Default env MCPTRAIL_TENANT. */
  tenant?: string;
  /** Agent of calls without a credential (stdio). Default: the client's declared name. */
  agent?: string;
}

export type Identify = (authInfo: AuthInfoLike | undefined) => Principal | undefined;

/** The Principal mcptrail's HTTP host verified and attached, or undefined. */
export function hostPrincipal(authInfo: AuthInfoLike | undefined): Principal | undefined {
  const p = authInfo?.extra?.principal as Partial<Principal> | undefined;
  if (!p || typeof p.tenantId !== 'string' || typeof p.agentId !== 'string' || !Array.isArray(p.scopes)) return undefined;
  if (p.method !== 'jwt' && p.method !== 'api_key') return undefined;
  return p as Principal;
}

/**
 * The identity resolver of one server. `declaredClient` is read only for
 * calls without a credential, and only when no agent is configured.
 */
export function identityResolver(opts: IdentityOptions, declaredClient: () => string | undefined): Identify {
  // Read when first needed: a stateless server resolves identities per request, and mostly from its own Principal.
  let configured: string | undefined;
  const tenantOf = () => (configured ??= opts.tenant ?? process.env.MCPTRAIL_TENANT ?? '');
  const custom = opts.principal;
  return (authInfo) => {
    const verified = hostPrincipal(authInfo);
    if (verified) return verified;
    const mapped = custom?.(authInfo);
    if (authInfo) {
      const extra = authInfo.extra ?? {};
      return {
        tenantId: text(mapped?.tenantId) ?? text(extra.tenant_id) ?? tenantOf(),
        agentId: text(mapped?.agentId) ?? text(authInfo.clientId) ?? '',
        subject: text(mapped?.subject) ?? text(extra.sub) ?? '',
        scopes: strings(mapped?.scopes) ?? strings(authInfo.scopes) ?? [],
        method: 'bearer',
        expiresAt: typeof authInfo.expiresAt === 'number' ? authInfo.expiresAt : undefined,
      };
    }
    return {
      tenantId: text(mapped?.tenantId) ?? tenantOf(),
      agentId: text(mapped?.agentId) ?? opts.agent ?? declaredClient() ?? '',
      subject: text(mapped?.subject) ?? '',
      scopes: strings(mapped?.scopes) ?? [],
      method: 'none',
    };
  };
}

function text(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function strings(v: unknown): string[] | undefined {
  return Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string') : undefined;
}
