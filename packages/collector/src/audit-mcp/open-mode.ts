/**
 * What "reads are open" means for the audit MCP server. With no read token
 * configured, /api and the console are open to whoever reaches the collector
 * (`mcptrail up` binds loopback and warns otherwise). The MCP route is
 * narrower: it answers only a peer on a loopback address that names a
 * loopback host (Host, and Origin when sent). The peer check keeps it closed
 * to the network even on `--host 0.0.0.0`; the Host/Origin check keeps a web
 * page that rebinds its DNS name to 127.0.0.1 from driving a local MCP
 * client's connection (the DNS-rebinding attack the MCP transport spec warns
 * of). Refused like a closed port: 403, no audit record.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '::1']);

export function isLoopbackAddress(address: string | undefined): boolean {
  if (!address) return false;
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
  return v4 === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4);
}

function isLoopbackName(hostname: string): boolean {
  const bare = hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  return LOOPBACK_NAMES.has(bare) || isLoopbackAddress(bare);
}

function originIsLoopback(origin: string): boolean {
  try {
    return isLoopbackName(new URL(origin).hostname);
  } catch {
    return false;
  }
}

/** An onRequest hook for the MCP routes while reads are open. */
export async function loopbackOnly(req: FastifyRequest, reply: FastifyReply): Promise<void> {
  const origin = req.headers.origin;
  if (isLoopbackAddress(req.socket.remoteAddress) && isLoopbackName(req.hostname) && (origin === undefined || originIsLoopback(origin))) return;
  await reply.code(403).send({
    jsonrpc: '2.0',
    error: {
      code: -32003,
      message: 'No read token is configured, so the audit MCP server answers loopback clients only. Set MCPTRAIL_READ_TOKENS (or MCPTRAIL_READ_TOKEN) to serve others with a bearer token.',
    },
    id: null,
  });
}
