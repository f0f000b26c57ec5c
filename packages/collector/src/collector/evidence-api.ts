/**
 * The evidence routes under /api: exports for auditors and SIEMs, and the
 * tamper-evidence ledger. Tenant-scoped like the rest of /api: a tenant token
 * reads its own tenant (asking for another is a 403), an operator token reads
 * any tenant, or all of them when none is named.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { describeIssues, parsedString } from '../audit/index.js';
import { DEFAULT_EXPORT_LIMIT, EXPORT_FORMATS, MAX_EXPORT_LIMIT, readExportPage } from '../audit/export.js';
import { parseInstant } from '../audit/instant.js';
import { ledgerHeads, verifyLedger } from '../audit/verify.js';
import type { LedgerHead } from '../audit/ledger-entry.js';
import type { Store } from '../store/index.js';
import { HttpError } from './errors.js';
import { scopeOf, tenantOf } from './read-scope.js';

export interface EvidenceApiOptions {
  /** Lets batches in flight land before verify looks twice at rows outside the ledger (the writer's flush). */
  settle?: () => Promise<void>;
}

const instant = (name: string) =>
  parsedString(parseInstant, `${name} must be an ISO 8601 time with a zone, a date, or a duration back from now (24h, 7d)`);

const ExportQuerySchema = z
  .object({
    tenant: z.string().min(1).max(128).optional(),
    since: instant('since').optional(),
    until: instant('until').optional(),
    cursor: z.string().min(1).max(512).optional(),
    limit: z.coerce.number().int().min(1).max(MAX_EXPORT_LIMIT, { message: `limit must be an integer from 1 to ${MAX_EXPORT_LIMIT}` }).optional(),
    format: z.enum(EXPORT_FORMATS as [string, ...string[]], { message: 'format must be ndjson or parquet' }).optional(),
  })
  .strict();

const VerifyQuerySchema = z
  .object({
    tenant: z.string().min(1).max(128).optional(),
    since: instant('since').optional(),
    /** A published head: `<seq>:<digest>` (with a tenant). */
    expect: z.string().regex(/^\d{1,15}:[0-9a-f]{64}$/, { message: 'expect must be <seq>:<64 hex digest>' }).optional(),
  })
  .strict();

const HeadsQuerySchema = z.object({ tenant: z.string().min(1).max(128).optional() }).strict();

const CONTENT_TYPES = { ndjson: 'application/x-ndjson', parquet: 'application/vnd.apache.parquet' } as const;

export function evidenceApi(store: Store, opts: EvidenceApiOptions = {}) {
  return async (app: FastifyInstance): Promise<void> => {
    app.get('/api/export', async (req, reply) => {
      const q = parse(ExportQuerySchema, req.query);
      const nowMs = Date.now();
      const sinceMs = parseInstant(q.since ?? '24h', nowMs);
      const untilMs = q.until ? parseInstant(q.until, nowMs) : nowMs;
      if (!(untilMs > sinceMs)) throw new HttpError(400, 'until must be after since');
      const format = (q.format ?? 'ndjson') as keyof typeof CONTENT_TYPES;
      let page;
      try {
        page = await readExportPage(store, { tenant: scopedTenant(req, q.tenant), sinceMs, untilMs }, q.cursor, { limit: q.limit ?? DEFAULT_EXPORT_LIMIT, format });
      } catch (err) {
        if (err instanceof RangeError) throw new HttpError(400, err.message);
        throw err;
      }
      // The page is read whole before it is sent: Content-Length lets a client tell a cut body from a complete one.
      reply.header('content-type', CONTENT_TYPES[format]).header('x-mcptrail-rows', String(page.rows)).header('x-mcptrail-complete', String(page.complete));
      if (page.first) reply.header('x-mcptrail-first', `${page.first.ts} ${page.first.callId}`);
      if (page.last) reply.header('x-mcptrail-last', `${page.last.ts} ${page.last.callId}`);
      if (page.next) {
        reply.header('x-mcptrail-next-cursor', page.next);
        const next = new URLSearchParams({ ...(req.query as Record<string, string>), cursor: page.next });
        reply.header('link', `</api/export?${next}>; rel="next"`);
      }
      return reply.send(page.body);
    });

    app.get('/api/ledger/verify', async (req) => {
      const q = parse(VerifyQuerySchema, req.query);
      const tenant = scopedTenant(req, q.tenant);
      let expect: LedgerHead[] | undefined;
      if (q.expect) {
        if (tenant === undefined) throw new HttpError(400, 'expect needs a tenant');
        const [seq, digest] = q.expect.split(':') as [string, string];
        expect = [{ tenant, seq: Number(seq), digest, ingestedAt: '' }];
      }
      return verifyLedger(store, { tenant, sinceMs: q.since ? parseInstant(q.since) : undefined, expect, settle: opts.settle });
    });

    app.get('/api/ledger/heads', async (req) => {
      const q = parse(HeadsQuerySchema, req.query);
      return { heads: await ledgerHeads(store, scopedTenant(req, q.tenant)) };
    });
  };
}

/** The tenant a request may read: its token's, or (operator) the one it names, or all (undefined). */
export function scopedTenant(req: FastifyRequest, asked: string | undefined): string | undefined {
  const own = tenantOf(scopeOf(req));
  if (own === undefined) return asked;
  if (asked !== undefined && asked !== own) throw new HttpError(403, 'this read token is scoped to another tenant');
  return own;
}

export function parse<T extends z.ZodTypeAny>(schema: T, input: unknown): z.infer<T> {
  const parsed = schema.safeParse(input ?? {});
  if (!parsed.success) throw new HttpError(400, describeIssues(parsed.error));
  return parsed.data;
}
