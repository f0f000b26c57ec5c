/**
 * Wraps request handlers the SDK installs itself (`tools/call`, `tools/list`),
 * now and whenever it installs them again: McpServer installs them lazily,
 * on the first tool registration, through `setRequestHandler`. One patch of
 * `setRequestHandler` per server serves every wrapper (a stateless server
 * is built, and instrumented, per request). The handler map is private SDK
 * state (sdk-internals.ts).
 */
import { requestHandlers, type RequestHandler } from './sdk-internals.js';

/** A wrapper for one method's handler; the mark keeps it from wrapping twice. */
export interface HandlerWrapper {
  method: string;
  wrap(inner: RequestHandler): RequestHandler;
}

const WRAPPED = Symbol.for('mcptrail.wrappedHandler');

/** A no-op when the protocol object does not look like either SDK's (the per-tool wrappers still record calls). */
export function hookRequestHandlers(server: unknown, wrappers: readonly HandlerWrapper[]): void {
  const found = requestHandlers(server);
  if (!found) return;
  const { protocol, handlers } = found;
  const ensure = () => {
    for (const w of wrappers) {
      const current = handlers.get(w.method);
      if (typeof current !== 'function' || WRAPPED in current) continue;
      const wrapped = w.wrap(current);
      Object.defineProperty(wrapped, WRAPPED, { value: true });
      handlers.set(w.method, wrapped);
    }
  };
  ensure();
  const setRequestHandler = protocol.setRequestHandler;
  protocol.setRequestHandler = function (this: unknown, ...args: unknown[]) {
    const out = setRequestHandler.apply(this, args);
    ensure();
    return out;
  };
}
