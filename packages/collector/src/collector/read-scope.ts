/**
 * Who may read what through /api: each read token maps to a scope, either an
 * operator (everything) or one tenant. `MCPTRAIL_READ_TOKEN` stays the
 * operator token; `MCPTRAIL_READ_TOKENS` (JSON) or `MCPTRAIL_READ_TOKENS_FILE`
 * (a JSON file) adds more: `{ "<token>": { "tenant": "acme" }, "<token2>": { "operator": true } }`.
 */
import { readFileSync } from 'node:fs';
import type { FastifyReply, FastifyRequest } from 'fastify';
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

/**
 * An onRequest hook: with no token configured reads are open (operator);
 * otherwise a known bearer token is required and its scope recorded. Tokens
 * are looked up by their SHA-256, so the lookup's timing says nothing about
 * how close a guess was.
 */
export function readGuard(operatorToken: string | undefined, tokens: Record<string, ReadScope>) {
  const byDigest = new Map<string, ReadScope>();
  for (const [token, scope] of Object.entries(tokens)) byDigest.set(digest(token), scope);
  if (operatorToken) byDigest.set(digest(operatorToken), OPERATOR);
  const open = byDigest.size === 0;
  return async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (open) return;
    const presented = presentedBearer(req);
    const scope = presented === undefined ? undefined : byDigest.get(digest(presented));
    if (scope) {
      scopes.set(req, scope);
      return;
    }
    await refuseBearer(reply, presented);
  };
}

function digest(value: string): string {
  return tokenDigest(value).toString('hex');
}
