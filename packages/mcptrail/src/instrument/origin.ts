/**
 * Origin validation, the Streamable HTTP transport's DNS-rebinding MUST: a
 * browser page on another site must not reach a server on this machine or
 * network through its user's browser. Requests without an `Origin` pass
 * (non-browser clients send none); a present one must name an allowed host
 * (port-agnostic), and one that does not parse (including the opaque
 * `null`) is refused. The same rules as the v2 SDK's `validateOriginHeader`,
 * kept here so that servers of either SDK line get them at the edge.
 */

export interface OriginPolicy {
  /** Allowed origin hostnames (`app.example.com`, `[::1]`), or `<scheme>://*` for every origin of a non-web scheme. */
  allowed: readonly string[];
}

/** The localhost-class hostnames, always allowed by default. */
export const LOCALHOST_ORIGINS: readonly string[] = ['localhost', '127.0.0.1', '[::1]'];

/**
 * The allow-list of an endpoint: `false` turns the check off; a list is used
 * as given; by default the localhost names plus the host of the configured
 * resource URL (the server's own public name).
 */
export function originPolicy(allowedOrigins: readonly string[] | false | undefined, resourceUrl: string | undefined): OriginPolicy | undefined {
  if (allowedOrigins === false) return undefined;
  if (allowedOrigins) return { allowed: [...allowedOrigins] };
  const own = resourceUrl ? hostnameOf(resourceUrl) : undefined;
  return { allowed: own && !LOCALHOST_ORIGINS.includes(own) ? [...LOCALHOST_ORIGINS, own] : [...LOCALHOST_ORIGINS] };
}

export function originAllowed(header: string | string[] | undefined, policy: OriginPolicy): boolean {
  if (header === undefined || header === '') return true;
  if (Array.isArray(header)) return false;
  let url: URL;
  try {
    url = new URL(header);
  } catch {
    return false;
  }
  if (url.hostname === '') return false;
  const webScheme = url.protocol === 'http:' || url.protocol === 'https:';
  return policy.allowed.includes(url.hostname) || (!webScheme && policy.allowed.includes(`${url.protocol}//*`));
}

function hostnameOf(url: string): string | undefined {
  try {
    return new URL(url).hostname || undefined;
  } catch {
    return undefined;
  }
}
