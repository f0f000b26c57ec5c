/** `mcptrail verify`: the ledger check, readable or `--json`; `--head` prints the heads to publish. */
import { readFileSync } from 'node:fs';
import type { LedgerHead } from '../audit/ledger-entry.js';
import type { VerifyReport } from '../audit/verify.js';
import { CliError, type AuditReader } from './reader.js';

/** `--expect`: `SEQ:DIGEST` (with --tenant), or a file holding `verify --head --json` output. */
export function parseExpect(value: string, tenant: string | undefined): LedgerHead[] {
  const m = /^(\d{1,15}):([0-9a-f]{64})$/.exec(value);
  if (m) {
    if (tenant === undefined) throw new CliError('--expect SEQ:DIGEST needs --tenant', 2);
    return [{ tenant, seq: Number(m[1]), digest: m[2]!, ingestedAt: '' }];
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(value, 'utf8'));
  } catch (err) {
    throw new CliError(`--expect must be SEQ:DIGEST or a file of published heads (${(err as Error).message})`, 2);
  }
  const heads = (Array.isArray(parsed) ? parsed : (parsed as { heads?: unknown }).heads) as LedgerHead[] | undefined;
  if (!Array.isArray(heads) || !heads.every((h) => typeof h?.tenant === 'string' && Number.isInteger(h.seq) && /^[0-9a-f]{64}$/.test(String(h.digest)))) {
    throw new CliError('--expect file: expected the output of `mcptrail verify --head --json`', 2);
  }
  return heads.filter((h) => tenant === undefined || h.tenant === tenant);
}

export async function verifyCommand(reader: AuditReader, opts: { tenant?: string; sinceMs?: number; expect: LedgerHead[] }): Promise<VerifyReport> {
  if (opts.expect.length === 0) return reader.verify({ tenant: opts.tenant, sinceMs: opts.sinceMs });
  // One published head per request; the reports are merged.
  const reports: VerifyReport[] = [];
  for (const head of opts.expect) reports.push(await reader.verify({ tenant: head.tenant, sinceMs: opts.sinceMs, expect: head }));
  const tenants = reports.flatMap((r) => r.tenants);
  return { ...reports[0]!, ok: tenants.every((t) => t.ok), tenants };
}

export function formatVerify(r: VerifyReport): string {
  const lines: string[] = [];
  if (r.tenants.length === 0) lines.push('nothing to verify: the ledger and tool_calls hold no rows for this scope');
  for (const t of r.tenants) {
    const span = t.chainStartsAt === undefined ? 'no entries' : `entries ${t.chainStartsAt}..${t.head?.seq}${t.chainStartsAt > 1 ? ' (earlier ones expired or were removed)' : ''}`;
    const extra = [t.expired ? `${t.expired} expired by TTL` : '', t.beforeLedger ? `${t.beforeLedger} older than the ledger` : ''].filter(Boolean).join(', ');
    lines.push(`${t.tenant}: ${t.ok ? 'OK' : 'FAILED'}  ${span}, ${t.rowsInLedger} row(s) in the ledger, ${t.rowsStored} stored${extra ? `; ${extra}` : ''}`);
    for (const p of t.chain) lines.push(`  chain  entry ${p.seq}: ${p.problem}`);
    for (const p of t.rows) lines.push(`  ${p.kind.padEnd(10)} call_id=${p.callId} ts=${p.ts}${p.seq !== undefined ? ` entry=${p.seq}` : ''}${p.detail ? `  (${p.detail})` : ''}`);
    const listed = t.rows.length;
    const total = t.counts.missing + t.counts.changed + t.counts.added + t.counts.duplicated;
    if (total > listed) lines.push(`  … and ${total - listed} more (missing ${t.counts.missing}, changed ${t.counts.changed}, added ${t.counts.added}, duplicated ${t.counts.duplicated})`);
    if (t.head) lines.push(`  head   seq=${t.head.seq} digest=${t.head.digest}`);
  }
  lines.push(r.ok ? 'verified: every ledgered row is stored unchanged, and nothing was added.' : 'verification FAILED: the rows above differ from what was ingested.');
  return lines.join('\n');
}

export function formatHeads(heads: LedgerHead[]): string {
  if (heads.length === 0) return 'the ledger is empty';
  return heads.map((h) => `${h.tenant}  seq=${h.seq}  digest=${h.digest}  at ${h.ingestedAt}`).join('\n') + '\nPublish these lines somewhere the store\'s writers cannot change; check later with `mcptrail verify --expect FILE`.';
}
