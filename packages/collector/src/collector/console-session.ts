/**
 * The console's sign-in: `POST /api/console/session` with `{ "token": "…" }`
 * checks a read token and puts it in an HttpOnly, SameSite=Strict cookie on
 * Path=/api, so page scripts never hold it and it never appears in a URL;
 * `DELETE` signs out; `GET` says whether a token is needed and whose scope the
 * cookie carries. Both changing requests must come from the console's own
 * origin (Origin header) and carry the console header (see read-scope.ts).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { HttpError } from './errors.js';
import { CONSOLE_HEADER, SESSION_COOKIE, type ReadTokens } from './read-scope.js';

/** A console session lasts a working day; signing in again is one paste. */
export const SESSION_MAX_AGE_S = 12 * 3600;

const SignIn = z.object({ token: z.string().min(1).max(4096) }).strict();

function cookieOptions(req: FastifyRequest) {
  return { path: '/api', httpOnly: true, sameSite: 'strict' as const, secure: req.protocol === 'https' };
}

/** The request comes from a page of this server: the browser's Origin matches the Host it addressed. */
function assertSameOrigin(req: FastifyRequest): void {
  const origin = req.headers.origin;
  if (origin !== `${req.protocol}://${req.host}`) throw new HttpError(403, 'sign-in and sign-out are accepted from the console page only (Origin mismatch)');
  if (req.headers[CONSOLE_HEADER] !== '1') throw new HttpError(403, `the console sends the ${CONSOLE_HEADER}: 1 header`);
}

export function consoleSession(tokens: ReadTokens) {
  return async (app: FastifyInstance): Promise<void> => {
    app.get('/api/console/session', async (req) => {
      if (tokens.open) return { auth: 'open', signedIn: true, scope: { operator: true } };
      const cookie = req.cookies[SESSION_COOKIE];
      const scope = cookie ? tokens.scopeFor(cookie) : undefined;
      return { auth: 'token', signedIn: scope !== undefined, scope: scope ?? null };
    });

    app.post('/api/console/session', async (req, reply) => {
      assertSameOrigin(req);
      const parsed = SignIn.safeParse(req.body);
      if (!parsed.success) throw new HttpError(400, 'send {"token": "<read token>"} as JSON');
      if (tokens.open) return { auth: 'open', signedIn: true, scope: { operator: true } };
      const scope = tokens.scopeFor(parsed.data.token);
      if (!scope) throw new HttpError(401, 'unknown read token');
      reply.setCookie(SESSION_COOKIE, parsed.data.token, { ...cookieOptions(req), maxAge: SESSION_MAX_AGE_S });
      return { auth: 'token', signedIn: true, scope };
    });

    app.delete('/api/console/session', async (req, reply) => {
      assertSameOrigin(req);
      reply.clearCookie(SESSION_COOKIE, cookieOptions(req));
      return { auth: tokens.open ? 'open' : 'token', signedIn: tokens.open, scope: tokens.open ? { operator: true } : null };
    });
  };
}
