/**
 * Validates an NDJSON body of CallRecords line by line. All or nothing: one
 * bad line rejects the request, naming the line and the problem. Valid lines
 * are re-serialised from the parsed record: JSON that JS accepts but the
 * engine would refuse (a duplicated key, say) must never reach an insert,
 * where it would fail the whole batch for every request sharing it.
 */
import { compileCallRecordCheck } from './fast-validate.js';
import { CallRecordSchema, type CallRecord } from 'mcptrail/record';
import { HttpError } from '../errors.js';
import type { KeyedRows } from '../writer.js';
import { normalizeForStore, rowDigestHex } from '../../audit/row-digest.js';
import type { LedgerRowFact } from '../../audit/ledger-entry.js';
import { forEachNdjsonLine, forEachNdjsonLineAsync } from './ndjson.js';
import { wellFormedJson } from './well-formed.js';

/** The valid lines with their call ids, time bounds and ledger facts, for the deduplicating writer. */
export type ValidatedRecords = KeyedRows & { facts: LedgerRowFact[] };

/** What DateTime64(3) stores and the audit trail plausibly holds. */
const MIN_TS_MS = Date.UTC(2000, 0, 1);
const MAX_TS_MS = Date.UTC(2100, 0, 1);

/**
 * Accepts exactly what CallRecordSchema accepts, much faster (src/record/fast-validate.ts).
 * A line it refuses goes through zod, for the message; undefined (an unsupported field
 * schema) means zod for every line.
 */
const isCallRecord = compileCallRecordCheck();

export function validateRecords(body: Buffer): ValidatedRecords {
  const v = recordValidator();
  forEachNdjsonLine(body.toString('utf8'), v.line);
  return v.result();
}

/** validateRecords, giving the event loop back every 1,000 lines (see forEachNdjsonLineAsync). */
export async function validateRecordsAsync(body: Buffer): Promise<ValidatedRecords> {
  const v = recordValidator();
  await forEachNdjsonLineAsync(body.toString('utf8'), v.line);
  return v.result();
}

function recordValidator(): { line: (line: string, lineNo: number) => void; result: () => ValidatedRecords } {
  const kept: string[] = [];
  const keys: string[] = [];
  const facts: LedgerRowFact[] = [];
  let minTsMs = Infinity;
  let maxTsMs = -Infinity;
  const line = (line: string, lineNo: number): void => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      throw new HttpError(400, `line ${lineNo}: not valid JSON`);
    }
    let record: CallRecord;
    if (isCallRecord?.(parsed)) record = parsed;
    else {
      const result = CallRecordSchema.safeParse(parsed);
      if (result.success) record = result.data;
      else {
        const problems = result.error.issues.slice(0, 3).map((i) => {
          if (i.code === 'unrecognized_keys') return `unknown field(s) ${i.keys.join(', ')}`;
          const path = i.path.map(String).join('.');
          return path ? `${path}: ${i.message}` : i.message;
        });
        throw new HttpError(400, `line ${lineNo}: ${problems.join('; ')}`);
      }
    }
    const tsMs = Date.parse(record.ts);
    if (!(tsMs >= MIN_TS_MS && tsMs <= MAX_TS_MS)) throw new HttpError(400, `line ${lineNo}: ts: outside the storable range 2000-01-01 .. 2100-01-01`);
    // Canonical lower-case form: ClickHouse stores UUIDs that way, and the dedup lookup compares strings.
    const key = record.call_id.toLowerCase();
    keys.push(key);
    minTsMs = Math.min(minTsMs, tsMs);
    maxTsMs = Math.max(maxTsMs, tsMs);
    // Sent exactly as stored (ms timestamps, float32 durations), so the ledger's row digest is the stored row's.
    const json = wellFormedJson(JSON.stringify(normalizeForStore(record)));
    kept.push(json);
    // UTF-8 encoding turns a lone surrogate into U+FFFD, as wellFormedJson does for the engine: same bytes.
    facts.push({ tenant: record.tenant_id, callId: key, tsMs, digest: rowDigestHex(record) });
  };
  return { line, result: () => ({ lines: kept, keys, minTsMs, maxTsMs, facts }) };
}
