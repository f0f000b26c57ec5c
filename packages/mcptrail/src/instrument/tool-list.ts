/**
 * `tools/list` by authorization: each caller sees only the tools its scopes
 * allow (a tool's policy `scope`), on both SDK lines and in any host. Hiding
 * a tool is not what guards it: a call to a hidden tool is still refused by
 * the scope check (at the HTTP edge, or in the pipeline) and recorded
 * `denied`. On 2026-07-28 the list is cacheable; a list that depends on the
 * caller's token is marked `cacheScope: "private"` (the client must not
 * share it across authorization contexts).
 *
 * The SDK installs its own `tools/list` handler; it is wrapped the way the
 * tools/call guard wraps tools/call (sdk-internals.ts), now and whenever the
 * SDK installs it again. `visibleTools` is the one rule, so another filter
 * (an intent, say) composes with it in one place.
 */
import { missingScope, type Principal } from '../auth/index.js';
import type { Identify } from './identity.js';
import type { ToolPolicy } from './policy.js';
import { readRequestInfo } from './request-info.js';
import { requestHandlers, type RequestHandler } from './sdk-internals.js';

const TOOLS_LIST = 'tools/list';
const FILTERED = Symbol.for('mcptrail.toolsListFilter');

export interface ToolListDeps {
  policyOf(tool: string): ToolPolicy;
  identify?: Identify;
}

interface ListedTool {
  name?: unknown;
}

/** The tools a caller may see: those whose policy scope its token grants (all of them without a principal's scopes to check). */
export function visibleTools<T extends ListedTool>(tools: readonly T[], principal: Principal | undefined, policyOf: (tool: string) => ToolPolicy): T[] {
  if (!principal) return [...tools];
  return tools.filter((t) => typeof t.name !== 'string' || !missingScope(policyOf(t.name).scope, principal.scopes));
}

/** Wraps the server's tools/list handler, now and on every later (re)installation. A no-op when the SDK keeps handlers elsewhere. */
export function filterToolsList(server: unknown, deps: ToolListDeps): void {
  const found = requestHandlers(server);
  if (!found) return;
  const { protocol, handlers } = found;
  const ensure = () => {
    const current = handlers.get(TOOLS_LIST);
    if (typeof current === 'function' && !(FILTERED in current)) handlers.set(TOOLS_LIST, filtered(current, deps));
  };
  ensure();
  const setRequestHandler = protocol.setRequestHandler;
  protocol.setRequestHandler = function (this: unknown, ...args: unknown[]) {
    const out = setRequestHandler.apply(this, args);
    ensure();
    return out;
  };
}

function filtered(inner: RequestHandler, deps: ToolListDeps): RequestHandler {
  const handler = (request: unknown, extra: unknown): Promise<unknown> =>
    Promise.resolve(inner(request, extra)).then((result) => {
      const list = result as { tools?: unknown } | null;
      if (!list || !Array.isArray(list.tools)) return result;
      const info = readRequestInfo(extra, deps.identify);
      const tools = visibleTools(list.tools as ListedTool[], info.principal, deps.policyOf);
      // 2026-07-28 results carry a cache scope; legacy results have no such field.
      return info.era === 'modern' ? { ...list, tools, cacheScope: 'private' } : { ...list, tools };
    });
  Object.defineProperty(handler, FILTERED, { value: true });
  return handler;
}
