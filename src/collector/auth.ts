/** Bearer-token guards for the ingest and read routes. */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * An onRequest hook that lets a request through only with `Authorization:
 * Bearer <token>`. Both sides are hashed first, so the comparison takes the
 * same time whatever the length or content of the presented token.
 */
export function bearerGuard(token: string) {
  const expected = digest(token);
  return async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const header = req.headers.authorization;
    const presented = typeof header === 'string' && /^Bearer /i.test(header) ? header.slice(7).trim() : undefined;
    if (presented !== undefined && timingSafeEqual(digest(presented), expected)) return;
    await reply
      .code(401)
      .header('www-authenticate', 'Bearer realm="mcptrail"')
      .send({ error: presented === undefined ? 'missing bearer token' : 'invalid bearer token' });
  };
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}
