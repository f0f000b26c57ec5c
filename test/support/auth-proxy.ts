/**
 * A reverse proxy that adds `Authorization: Bearer <token>` to every request:
 * the conformance suite's client sends no credentials, and the demo server
 * accepts no unauthenticated call. Everything else (Origin included) passes
 * through untouched, both ways, streamed.
 */
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export async function startAuthProxy(target: string, token: string): Promise<{ url: string; close(): Promise<void> }> {
  const base = new URL(target);
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', base);
    const upstream = request(url, { method: req.method, headers: { ...req.headers, host: url.host, authorization: `Bearer ${token}` } }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${base.pathname}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
