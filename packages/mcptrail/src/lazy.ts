/**
 * A CommonJS dependency loaded on first use instead of at import. An MCP
 * server imports mcptrail at startup; ioredis, cockatiel, pino,
 * rate-limiter-flexible and the OpenTelemetry SDK together cost it about
 * as much again as the MCP SDK itself (BENCHMARKS.md §7), and most servers
 * use only some of them. All of these ship CommonJS to Node (no `import`
 * condition), so `require` yields the very module instance an `import` would.
 */
import { createRequire } from 'node:module';

const load = createRequire(import.meta.url);

export function lazy<T>(id: string): () => T {
  let mod: T | undefined;
  return () => (mod ??= load(id) as T);
}
