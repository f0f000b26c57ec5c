/**
 * `mcptrail export`: a tenant's (or, for an operator, every tenant's) calls
 * over a time range into a directory of data files and a manifest: the range,
 * the order, and per file its rows, size, first and last key and SHA-256.
 * One file per page, written and hashed as it arrives, so memory holds one
 * page whatever the range.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
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

export async function exportCommand(reader: AuditReader, opts: ExportOptions): Promise<ExportManifest> {
  mkdirSync(opts.out, { recursive: true });
  if (existsSync(join(opts.out, MANIFEST))) throw new CliError(`${join(opts.out, MANIFEST)} exists: export into an empty directory`, 2);
  const range = { tenant: opts.tenant, sinceMs: opts.sinceMs, untilMs: opts.untilMs };
  const files: ExportFile[] = [];
  let cursor: string | undefined;
  let rows = 0;
  for (;;) {
    const page = await reader.exportPage(range, cursor, { limit: opts.rowsPerFile, format: opts.format });
    if (page.rows > 0) {
      const name = `tool_calls-${String(files.length + 1).padStart(6, '0')}.${EXT[opts.format]}`;
      writeFileSync(join(opts.out, name), page.body);
      files.push({ name, rows: page.rows, bytes: page.body.length, sha256: createHash('sha256').update(page.body).digest('hex'), first: page.first, last: page.last });
      rows += page.rows;
    }
    if (page.complete || !page.next) break;
    cursor = page.next;
  }
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
