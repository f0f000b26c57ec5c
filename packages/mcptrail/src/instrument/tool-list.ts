/**
 * `tools/list` by authorization: each caller sees only the tools its scopes
 * allow (a tool's policy `scope`), on both SDK lines and in any host. Hiding
 * a tool is not what guards it: a call to a hidden tool is still refused by
 * the scope check (at the HTTP edge, or in the pipeline) and recorded
 * `denied`. On 2026-07-28 the list is cacheable; a list that depends on the
 * caller's token is marked `cacheScope: "private"` (the client must not
 * share it across authorization contexts).
 *
 * The SDK installs its own `tools/list` handler; handler-hooks.ts wraps it
 * (as it wraps tools/call for the rejection guard), now and whenever the SDK
 * installs it again. `visibleTools` is the one rule, so another filter
 * composes with it in one place. The same pass adds the `intent` argument
 * to the schema of each tool whose policy asks for one (intent.ts).
 */
import { missingScope, type Principal } from '../auth/index.js';
import type { Identify } from './identity.js';
import type { ToolPolicy } from './policy.js';
import type { HandlerWrapper } from './handler-hooks.js';
import { readRequestInfo } from './request-info.js';
import { intentPolicyOf, withIntentArgument } from './intent.js';
import type { RequestHandler } from './sdk-internals.js';

const TOOLS_LIST = 'tools/list';

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

/** The wrapper of the server's tools/list handler (installed by handler-hooks.ts). */
export function toolsListFilter(deps: ToolListDeps): HandlerWrapper {
  return { method: TOOLS_LIST, wrap: (inner) => filtered(inner, deps) };
}

function filtered(inner: RequestHandler, deps: ToolListDeps): RequestHandler {
  return (request: unknown, extra: unknown): Promise<unknown> =>
    Promise.resolve(inner(request, extra)).then((result) => {
      const list = result as { tools?: unknown } | null;
      if (!list || !Array.isArray(list.tools)) return result;
      const info = readRequestInfo(extra, deps.identify);
      const tools = visibleTools(list.tools as ListedTool[], info.principal, deps.policyOf).map((t) =>
        typeof t.name === 'string' ? withIntentArgument(t, intentPolicyOf(deps.policyOf(t.name))) : t,
      );
      // 2026-07-28 results carry a cache scope; legacy results have no such field.
      return info.era === 'modern' ? { ...list, tools, cacheScope: 'private' } : { ...list, tools };
    });
}
