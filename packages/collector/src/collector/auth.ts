/** Bearer-token guards for the ingest and read routes. */
import { timingSafeEqual } from 'node:crypto';
import { sha256Digest } from 'mcptrail/crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * An onRequest hook that lets a request through only with `Authorization:
 * Bearer <token>`. Both sides are hashed first, so the comparison takes the
 * same time whatever the length or content of the presented token.
 */
export function bearerGuard(token: string) {
  const expected = tokenDigest(token);
  return async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const presented = presentedBearer(req);
    if (presented !== undefined && timingSafeEqual(tokenDigest(presented), expected)) return;
    await refuseBearer(reply, presented);
  };
}

/** The token of an `Authorization: Bearer <token>` header, undefined without one. */
export function presentedBearer(req: FastifyRequest): string | undefined {
  const header = req.headers.authorization;
  return typeof header === 'string' && /^Bearer /i.test(header) ? header.slice(7).trim() : undefined;
}

/** The 401 for a missing or unknown bearer token (never echoing what was presented). */
export async function refuseBearer(reply: FastifyReply, presented: string | undefined): Promise<void> {
  await reply
    .code(401)
    .header('www-authenticate', 'Bearer realm="mcptrail"')
    .send({ error: presented === undefined ? 'missing bearer token' : 'invalid bearer token' });
}

/** SHA-256 of a token: what guards compare and look up, never the token itself. */
export function tokenDigest(value: string): Buffer {
  return sha256Digest(value);
}
