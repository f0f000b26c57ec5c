/**
 * Who may read what through /api: each read token maps to a scope, either an
 * operator (everything) or one tenant. `MCPTRAIL_READ_TOKEN` stays the
 * operator token; `MCPTRAIL_READ_TOKENS` (JSON) or `MCPTRAIL_READ_TOKENS_FILE`
 * (a JSON file) adds more: `{ "<token>": { "tenant": "acme" }, "<token2>": { "operator": true } }`.
 */
import { readFileSync } from 'node:fs';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type {} from '@fastify/cookie';
import { z } from 'zod';
import { presentedBearer, refuseBearer, tokenDigest } from './auth.js';

export type ReadScope = { operator: true } | { tenant: string };

const ScopeSchema = z.union([
  z.object({ operator: z.literal(true) }).strict(),
  z.object({ tenant: z.string().min(1).max(128) }).strict(),
]);
const TokensSchema = z.record(z.string().min(16, { error: 'read tokens must be at least 16 characters' }), ScopeSchema);

/** Parses the token → scope JSON; throws naming the problem (never echoing a token). */
export function parseReadTokens(json: string): Record<string, ReadScope> {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    throw new Error('MCPTRAIL_READ_TOKENS is not valid JSON');
  }
  const parsed = TokensSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`MCPTRAIL_READ_TOKENS: ${issue.code === 'invalid_key' ? 'read tokens must be at least 16 characters' : issue.message}`);
  }
  return parsed.data as Record<string, ReadScope>;
}

/** Scoped read tokens from the environment (empty when none are configured). */
export function readTokensFromEnv(env: NodeJS.ProcessEnv = process.env): Record<string, ReadScope> {
  if (env.MCPTRAIL_READ_TOKENS) return parseReadTokens(env.MCPTRAIL_READ_TOKENS);
  if (env.MCPTRAIL_READ_TOKENS_FILE) return parseReadTokens(readFileSync(env.MCPTRAIL_READ_TOKENS_FILE, 'utf8'));
  return {};
}

const scopes = new WeakMap<FastifyRequest, ReadScope>();
const OPERATOR: ReadScope = { operator: true };

/** The scope the read guard granted this request (operator when reads are open). */
export function scopeOf(req: FastifyRequest): ReadScope {
  return scopes.get(req) ?? OPERATOR;
}

export function tenantOf(scope: ReadScope): string | undefined {
  return 'tenant' in scope ? scope.tenant : undefined;
}

/** The read tokens, looked up by their SHA-256 (the lookup's timing says nothing about how close a guess was). */
export interface ReadTokens {
  /** No token configured: reads are open (operator). */
  readonly open: boolean;
  scopeFor(token: string): ReadScope | undefined;
}

export function readTokenTable(operatorToken: string | undefined, tokens: Record<string, ReadScope>): ReadTokens {
  const byDigest = new Map<string, ReadScope>();
  for (const [token, scope] of Object.entries(tokens)) byDigest.set(digest(token), scope);
  if (operatorToken) byDigest.set(digest(operatorToken), OPERATOR);
  return { open: byDigest.size === 0, scopeFor: (token) => byDigest.get(digest(token)) };
}

/**
 * The console's session cookie: the read token itself, HttpOnly (page scripts
 * never see it), SameSite=Strict and Path=/api (see console-session.ts).
 */
export const SESSION_COOKIE = 'mcptrail_read';
/**
 * A cookie-authenticated read must carry this header. Browsers attach cookies
 * on their own, custom headers only when a script of the same origin sets them
 * (cross-origin, the header forces a CORS preflight this server never
 * approves): the header is the CSRF defence beside SameSite=Strict.
 */
export const CONSOLE_HEADER = 'x-mcptrail-console';

/**
 * An onRequest hook: with no token configured reads are open (operator);
 * otherwise a known bearer token, or the console's session cookie with the
 * console header, is required and its scope recorded.
 */
export function readGuard(tokens: ReadTokens) {
  return async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (tokens.open) return;
    const presented = presentedBearer(req);
    if (presented !== undefined) {
      const scope = tokens.scopeFor(presented);
      if (scope) {
        scopes.set(req, scope);
        return;
      }
      return refuseBearer(reply, presented);
    }
    const cookie = req.cookies?.[SESSION_COOKIE];
    if (cookie) {
      if (req.headers[CONSOLE_HEADER] !== '1') {
        await reply.code(403).send({ error: `a request authenticated by the console cookie must send the ${CONSOLE_HEADER}: 1 header` });
        return;
      }
      const scope = tokens.scopeFor(cookie);
      if (scope) {
        scopes.set(req, scope);
        return;
      }
      await reply.code(401).send({ error: 'the console session is no longer valid: sign in again' });
      return;
    }
    await refuseBearer(reply, undefined);
  };
}

function digest(value: string): string {
  return tokenDigest(value).toString('hex');
}
