/**
 * A ledger entry and its chain digest, shared by the collector (which writes
 * entries) and `verify` (which recomputes them).
 *
 * digest = SHA-256 of one canonical text: a JSON header naming the format,
 * tenant, sequence number, covered schema version, previous digest and row
 * count, then one line per row, `<call_id> <ts ms> <row digest>`. Every token
 * has a fixed form (lower-case UUID, integer, hex), so the text is unambiguous;
 * the previous digest in the header makes each entry commit to the whole chain
 * before it.
 */
import { sha256Hex } from 'mcptrail/crypto';

export const GENESIS_DIGEST = '0'.repeat(64);
const FORMAT = 'mcptrail-ledger/1';

export interface LedgerRowFact {
  tenant: string;
  /** Lower-case UUID. */
  callId: string;
  tsMs: number;
  /** Hex row digest (audit/row-digest.ts). */
  digest: string;
}

export interface LedgerEntry {
  tenant: string;
  seq: number;
  columnsVersion: number;
  prevDigest: string;
  digest: string;
  /** Each row, in arrival order. */
  callIds: string[];
  rowTsMs: number[];
  rowDigests: string[];
  /** Lines of the batch that dedup dropped (already stored, or repeated within it). */
  duplicates: number;
  /** ISO 8601. */
  ingestedAt: string;
}

export function entryDigest(e: Pick<LedgerEntry, 'tenant' | 'seq' | 'columnsVersion' | 'prevDigest' | 'callIds' | 'rowTsMs' | 'rowDigests'>): string {
  let text = JSON.stringify([FORMAT, e.tenant, e.seq, e.columnsVersion, e.prevDigest, e.callIds.length]) + '\n';
  for (let i = 0; i < e.callIds.length; i++) text += `${e.callIds[i]} ${e.rowTsMs[i]} ${e.rowDigests[i]}\n`;
  return sha256Hex(text);
}

/** The head of one tenant's chain: what an operator publishes elsewhere and later checks against. */
export interface LedgerHead {
  tenant: string;
  seq: number;
  digest: string;
  ingestedAt: string;
}
