/**
 * The agent's stated intent: why it calls a tool, in one sentence, on every
 * record (issue 17). Two channels:
 *  - `_meta['io.mcptrail/intent']`, for a client that knows mcptrail (it wins);
 *  - an `intent` argument mcptrail adds to the tool's input schema in
 *    `tools/list` (tool-list.ts), for any client: the model fills it in.
 *
 * The tools/call guard (sdk-rejections.ts) takes the argument out of the
 * request before the SDK validates the arguments, so the tool's schema, its
 * handler and the argument summary never see it; what it read waits here,
 * keyed by the request (as HANDLER_RAN is), for the pipeline's record. Under
 * policy `required` the pipeline refuses a call that stated none.
 *
 * A tool that declares an `intent` argument of its own keeps it: then only
 * `_meta` states mcptrail's intent.
 *
 * Only the masked form (record/intent.ts) is kept: the raw text goes no further.
 */
import { recordedIntent } from '../record/intent.js';
import type { IntentPolicy, ToolPolicy } from './policy.js';

export const INTENT_META_KEY = 'io.mcptrail/intent';
export const INTENT_ARGUMENT = 'intent';
export const INTENT_SPAN_ATTRIBUTE = 'mcptrail.intent';

/** What the model reads in the tool's schema. */
export const INTENT_DESCRIPTION =
  'In one sentence, why you are calling this tool: the goal it serves for the user (recorded for audit; never include secrets or personal data).';

/** The error class and code of a call refused for stating no intent. */
export const INTENT_REQUIRED_CLASS = 'IntentRequired';
export const INTENT_REQUIRED_CODE = 'intent_required';

export function intentPolicyOf(policy: ToolPolicy): IntentPolicy {
  return policy.intent ?? 'off';
}

const stated = new WeakMap<object, string>();

interface CallRequest {
  params?: { name?: unknown; arguments?: unknown; _meta?: unknown };
}

/**
 * The request the SDK should see (the `intent` argument removed, when the
 * tool's policy asks for one), and what the caller stated — stored, masked,
 * under `key` for the pipeline. `_meta` takes precedence over the argument.
 */
export function takeIntent(request: unknown, key: object | undefined, policy: ToolPolicy, ownArgument = false): unknown {
  if (intentPolicyOf(policy) === 'off') return request;
  const params = (request as CallRequest | null)?.params;
  if (!params || typeof params !== 'object') return request;
  const args = params.arguments;
  const hasArgument = !ownArgument && isArgumentsWithIntent(args);
  const text = intentOfParams(params, hasArgument);
  if (key && text) stated.set(key, text);
  if (!hasArgument) return request;
  return { ...(request as object), params: { ...params, arguments: dropIntentArgument(args) } };
}

/** Arguments without the `intent` property (the caller checked that they have one). */
function dropIntentArgument(args: unknown): Record<string, unknown> {
  const { [INTENT_ARGUMENT]: _dropped, ...rest } = args as Record<string, unknown>;
  return rest;
}

/** What a tools/call's params state (masked): `_meta` first, then the argument (when the tool's policy lists one). */
function intentOfParams(params: NonNullable<CallRequest['params']>, readArgument: boolean): string {
  const meta = params._meta && typeof params._meta === 'object' ? (params._meta as Record<string, unknown>)[INTENT_META_KEY] : undefined;
  return recordedIntent(meta) || (readArgument ? recordedIntent((params.arguments as Record<string, unknown>)[INTENT_ARGUMENT]) : '');
}

function isArgumentsWithIntent(args: unknown): boolean {
  return args !== null && typeof args === 'object' && !Array.isArray(args) && Object.prototype.hasOwnProperty.call(args, INTENT_ARGUMENT);
}

/**
 * The intent a tools/call message states, for a call the HTTP edge refuses
 * (the SDK never sees it, so nothing was taken out): the same channels and
 * masking, nothing changed.
 */
export function intentOfMessage(params: unknown, policy: ToolPolicy): string {
  if (intentPolicyOf(policy) === 'off' || !params || typeof params !== 'object') return '';
  const p = params as NonNullable<CallRequest['params']>;
  return intentOfParams(p, isArgumentsWithIntent(p.arguments));
}

/** The stated intent of the request under `key` (masked), '' when none; read once per request. */
export function statedIntent(key: object | undefined): string {
  if (!key) return '';
  const text = stated.get(key) ?? '';
  stated.delete(key);
  return text;
}

interface ListedTool {
  name?: unknown;
  inputSchema?: unknown;
}

/**
 * A listed tool with the `intent` argument in its input schema (required under
 * `required`). A tool whose own schema already has an `intent` property is left
 * as it is: its argument is its own.
 */
export function withIntentArgument<T extends ListedTool>(tool: T, policy: IntentPolicy): T {
  if (policy === 'off') return tool;
  const schema = (tool.inputSchema && typeof tool.inputSchema === 'object' ? tool.inputSchema : { type: 'object' }) as Record<string, unknown>;
  const properties = (schema.properties && typeof schema.properties === 'object' ? schema.properties : {}) as Record<string, unknown>;
  if (Object.prototype.hasOwnProperty.call(properties, INTENT_ARGUMENT)) return tool;
  const required = Array.isArray(schema.required) ? (schema.required as unknown[]) : [];
  const inputSchema: Record<string, unknown> = {
    ...schema,
    properties: { ...properties, [INTENT_ARGUMENT]: { type: 'string', maxLength: 300, description: INTENT_DESCRIPTION } },
  };
  if (policy === 'required') inputSchema.required = [...required, INTENT_ARGUMENT];
  return { ...tool, inputSchema };
}

/** Whether a registered tool's own input schema (zod, either SDK line) declares an `intent` property. */
export function declaresIntentArgument(entry: unknown): boolean {
  const schema = (entry as { inputSchema?: { shape?: unknown } } | null)?.inputSchema;
  const shape = schema && typeof schema === 'object' ? schema.shape : undefined;
  return !!shape && typeof shape === 'object' && Object.prototype.hasOwnProperty.call(shape, INTENT_ARGUMENT);
}

/** Arguments as the tool sees them: without mcptrail's `intent` argument when its policy asks for one. */
export function withoutIntentArgument(args: unknown, entry: unknown, policy: ToolPolicy): unknown {
  if (intentPolicyOf(policy) === 'off' || declaresIntentArgument(entry) || !isArgumentsWithIntent(args)) return args;
  return dropIntentArgument(args);
}
