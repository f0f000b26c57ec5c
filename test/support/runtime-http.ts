/** A real local HTTP upstream whose answers are scripted per path, and a tiny client for it. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ScriptedAnswer {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

export interface ScriptedUpstream {
  url: string;
  /** Requests received per path, with their arrival times (ms). */
  hits: Map<string, number[]>;
  /** Answers for a path, consumed in order; the last one repeats. */
  script(path: string, answers: ScriptedAnswer[]): void;
  close(): Promise<void>;
}

export async function scriptedUpstream(): Promise<ScriptedUpstream> {
  const scripts = new Map<string, ScriptedAnswer[]>();
  const hits = new Map<string, number[]>();
  const server: Server = createServer((req, res) => {
    const path = req.url ?? '/';
    hits.set(path, [...(hits.get(path) ?? []), Date.now()]);
    const answers = scripts.get(path) ?? [{ status: 404 }];
    const answer = answers.length > 1 ? answers.shift()! : answers[0]!;
    res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
    res.end(JSON.stringify(answer.body ?? {}));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    hits,
    script: (path, answers) => scripts.set(path, [...answers]),
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** Shaped like the upstream client's errors: status plus the Retry-After header, no URL or body in the message. */
export class HttpStatusError extends Error {
  override readonly name = 'UpstreamError';
  constructor(
    readonly status: number,
    readonly retryAfter: string | undefined,
  ) {
    super(`upstream answered HTTP ${status}`);
  }
}

export async function call(url: string, init?: RequestInit): Promise<unknown> {
  const res = await fetch(url, init);
  const body = await res.json();
  if (!res.ok) throw new HttpStatusError(res.status, res.headers.get('retry-after') ?? undefined);
  return body;
}
