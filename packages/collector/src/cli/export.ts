/**
 * `mcptrail export`: a tenant's (or, for an operator, every tenant's) calls
 * over a time range into a directory of data files and a manifest: the range,
 * the order, and per file its rows, size, first and last key and SHA-256.
 * Written and hashed as pages arrive, so memory holds one page whatever the
 * range: a Parquet file is one page (the engine writes each file whole); an
 * NDJSON file is filled from pages of at most NDJSON_PAGE_ROWS rows.
 */
import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ExportFormat, ExportKey } from '../audit/export.js';
import type { LedgerHead } from '../audit/ledger-entry.js';
import { CliError, type AuditReader } from './reader.js';

export const MANIFEST = 'manifest.json';

export interface ExportOptions {
  tenant?: string;
  sinceMs: number;
  untilMs: number;
  format: ExportFormat;
  out: string;
  rowsPerFile: number;
}

export interface ExportFile {
  name: string;
  rows: number;
  bytes: number;
  sha256: string;
  first?: ExportKey;
  last?: ExportKey;
}

export interface ExportManifest {
  format: 'mcptrail-export/1';
  table: 'tool_calls';
  tenant: string | null;
  /** Inclusive. */
  since: string;
  /** Exclusive. */
  until: string;
  order: 'ts, call_id';
  fileFormat: ExportFormat;
  source: string;
  createdAt: string;
  rows: number;
  files: ExportFile[];
  /** The ledger's heads when the export finished: ties the export to the tamper-evidence chain. */
  ledgerHeads: LedgerHead[];
}

const EXT: Record<ExportFormat, string> = { ndjson: 'ndjson', parquet: 'parquet' };
/** Rows per request for NDJSON: ~10 MB pages whatever --rows-per-file says. */
export const NDJSON_PAGE_ROWS = 20_000;

export async function exportCommand(reader: AuditReader, opts: ExportOptions): Promise<ExportManifest> {
  mkdirSync(opts.out, { recursive: true });
  if (existsSync(join(opts.out, MANIFEST))) throw new CliError(`${join(opts.out, MANIFEST)} exists: export into an empty directory`, 2);
  const range = { tenant: opts.tenant, sinceMs: opts.sinceMs, untilMs: opts.untilMs };
  const files: ExportFile[] = [];
  let open: (ExportFile & { hash: ReturnType<typeof createHash> }) | undefined;
  const close = () => {
    if (!open) return;
    const { hash, ...file } = open;
    files.push({ ...file, sha256: hash.digest('hex') });
    open = undefined;
  };
  let cursor: string | undefined;
  let rows = 0;
  for (;;) {
    const room = opts.format === 'parquet' ? opts.rowsPerFile : Math.min(NDJSON_PAGE_ROWS, opts.rowsPerFile - (open?.rows ?? 0));
    const page = await reader.exportPage(range, cursor, { limit: room, format: opts.format });
    if (page.rows > 0) {
      if (!open) {
        const name = `tool_calls-${String(files.length + 1).padStart(6, '0')}.${EXT[opts.format]}`;
        open = { name, rows: 0, bytes: 0, sha256: '', first: page.first, hash: createHash('sha256') };
        writeFileSync(join(opts.out, name), '');
      }
      appendFileSync(join(opts.out, open.name), page.body);
      open.hash.update(page.body);
      open.rows += page.rows;
      open.bytes += page.body.length;
      open.last = page.last;
      rows += page.rows;
      if (opts.format === 'parquet' || open.rows >= opts.rowsPerFile) close();
    }
    if (page.complete || !page.next) break;
    cursor = page.next;
  }
  close();
  const manifest: ExportManifest = {
    format: 'mcptrail-export/1',
    table: 'tool_calls',
    tenant: opts.tenant ?? null,
    since: new Date(opts.sinceMs).toISOString(),
    until: new Date(opts.untilMs).toISOString(),
    order: 'ts, call_id',
    fileFormat: opts.format,
    source: reader.source,
    createdAt: new Date().toISOString(),
    rows,
    files,
    ledgerHeads: await reader.heads(opts.tenant),
  };
  // Written last, atomically: a directory with a manifest holds a complete export.
  const tmp = join(opts.out, `.${MANIFEST}.tmp`);
  writeFileSync(tmp, JSON.stringify(manifest, null, 2) + '\n');
  renameSync(tmp, join(opts.out, MANIFEST));
  return manifest;
}

export function describeExport(m: ExportManifest, out: string): string {
  return (
    `exported ${m.rows} call(s) of ${m.tenant ?? 'every tenant'} from ${m.since} to ${m.until} into ${out}: ` +
    `${m.files.length} ${m.fileFormat} file(s) and ${MANIFEST} (sha256 per file; source ${m.source})`
  );
}
