/**
 * What mcptrail's HTTP host knows about a request that the MCP SDK does not
 * hand to a tool handler: the peer's address and port and the HTTP version
 * (for the span's `client.*` and `network.protocol.*`), and on the legacy
 * revisions the client's declared name and version. The host passes them
 * next to the Principal in the SDK's `authInfo.extra`, the one channel both
 * SDK lines carry from the transport to the handler.
 *
 * A stateless legacy `tools/call` carries nothing about the client: the
 * client declared itself once, in an `initialize` answered by another
 * server instance. The host remembers the last declaration per principal
 * (bounded, least recently used forgotten first) and hands it on with the
 * principal's later requests; a 2026-07-28 request declares its client
 * itself and never reads this.
 */
import type { Principal } from '../auth/index.js';
import type { AuthInfoLike } from './identity.js';

export const HOST_FACTS_KEY = 'mcptrail';

export interface HostFacts {
  clientAddress?: string;
  clientPort?: number;
  /** `1.1`, `2`. */
  httpVersion?: string;
  /** The client's declaration in the principal's last `initialize` (legacy revisions). */
  client?: { name: string; version: string };
}

export function hostFactsOf(authInfo: AuthInfoLike | undefined): HostFacts | undefined {
  const facts = authInfo?.extra?.[HOST_FACTS_KEY];
  return typeof facts === 'object' && facts !== null ? (facts as HostFacts) : undefined;
}

/** The declared clients of principals, by principal (tenant, agent, credential kind). */
export interface DeclaredClients {
  /** Remembers the `clientInfo` of an `initialize` body, if it is one. */
  remember(principal: Principal, body: unknown): void;
  lookup(principal: Principal): { name: string; version: string } | undefined;
}

export function declaredClients(max = 10_000): DeclaredClients {
  // Insertion order is recency order: a touched entry is re-inserted at the end.
  const byPrincipal = new Map<string, { name: string; version: string }>();
  const keyOf = (p: Principal) => `${p.method}\n${p.tenantId}\n${p.agentId}\n${p.subject}`;
  return {
    remember(principal, body) {
      const info = initializeClientInfo(body);
      if (!info) return;
      const key = keyOf(principal);
      byPrincipal.delete(key);
      if (byPrincipal.size >= max) byPrincipal.delete(byPrincipal.keys().next().value!);
      byPrincipal.set(key, info);
    },
    lookup(principal) {
      if (byPrincipal.size === 0) return undefined;
      const key = keyOf(principal);
      const found = byPrincipal.get(key);
      if (found) {
        byPrincipal.delete(key);
        byPrincipal.set(key, found);
      }
      return found;
    },
  };
}

/** `params.clientInfo` of a legacy `initialize` request (bounded strings), else undefined. */
function initializeClientInfo(body: unknown): { name: string; version: string } | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined;
  const msg = body as { method?: unknown; params?: { clientInfo?: { name?: unknown; version?: unknown } } };
  if (msg.method !== 'initialize') return undefined;
  const info = msg.params?.clientInfo;
  if (typeof info?.name !== 'string') return undefined;
  return { name: info.name.slice(0, 256), version: typeof info.version === 'string' ? info.version.slice(0, 128) : '' };
}
