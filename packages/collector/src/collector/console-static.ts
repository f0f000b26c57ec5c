/**
 * The console's pages and assets, from the @mcptrail/console build. Each page
 * URL (a contract, DESIGN.md) answers the same index.html; the browser-side
 * router draws the page. Assets have content-hashed names, so they are cached
 * for good; the page itself is revalidated every time.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

export const CONSOLE_PAGES = ['/', '/tenants/:tenant', '/calls', '/traces/:traceId', '/alerts'] as const;

/** Everything the console loads comes from this origin; it never runs framed. */
export const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const PAGE_HEADERS = {
  'content-security-policy': CONSOLE_CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-cache',
};

const NOT_BUILT = `<!doctype html><meta charset="utf-8"><title>mcptrail console</title>
<p>The console is not built. Run <code>npm run build</code> at the repository root, then reload.</p>
<p>The audit API answers meanwhile: <a href="/api/calls">/api/calls</a>.</p>`;

export function consoleStatic(distDir: string) {
  return async (app: FastifyInstance): Promise<void> => {
    const indexFile = join(distDir, 'index.html');
    const built = existsSync(indexFile);
    if (built) {
      await app.register(fastifyStatic, {
        root: join(distDir, 'assets'),
        prefix: '/assets/',
        index: false,
        immutable: true,
        maxAge: '365d',
        decorateReply: false,
      });
    }
    for (const path of CONSOLE_PAGES) {
      app.get(path, async (_req, reply) => {
        reply.headers(PAGE_HEADERS).type('text/html; charset=utf-8');
        if (!built || !existsSync(indexFile)) return reply.code(503).send(NOT_BUILT);
        return reply.send(await readFile(indexFile));
      });
    }
  };
}
