export interface ProtectedResourceMetadataOptions {
  /** The MCP endpoint URL, e.g. https://mcp.example.com/mcp */
  resource: string;
  authorizationServers?: string[];
  scopesSupported?: string[];
}

/** RFC 9728 protected resource metadata document. */
export function protectedResourceMetadata(opts: ProtectedResourceMetadataOptions): Record<string, unknown> {
  return {
    resource: opts.resource,
    authorization_servers: opts.authorizationServers ?? [],
    ...(opts.scopesSupported ? { scopes_supported: opts.scopesSupported } : {}),
    bearer_methods_supported: ['header'],
  };
}

/**
 * Where RFC 9728 §3.1 places the metadata of `resource`: the well-known path
 * inserted between the origin and the resource's path.
 */
export function protectedResourceMetadataUrl(resource: string): string {
  const url = new URL(resource);
  const path = url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '');
  return `${url.origin}/.well-known/oauth-protected-resource${path}`;
}
