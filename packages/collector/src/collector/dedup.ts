/**
 * The existence lookup behind exactly-once `tool_calls`: which call ids of a
 * batch the table already holds. A re-sent record is byte-identical, so its
 * stored copy has the same `ts`: the time bounds prune partitions and the
 * call_id bloom filter prunes granules, keeping the lookup cheap whatever the
 * table's size.
 */
import { TABLES, type Store } from '../store/index.js';
import type { ExistingKeys } from './writer.js';

/** Ids per lookup: the http driver sends parameters in the URL, which servers cap (often 16 KiB). */
const IDS_PER_QUERY = { embedded: 5_000, http: 300 } as const;

/**
 * Ids per lookup up to which the call_id bloom filter (false-positive rate 0.001 per id) is worth
 * consulting. A granule passes it when any of the n ids is a (false) hit, with probability
 * 1 - 0.999^n: 26 % for the http driver's 300 ids, 39 % for 500, 99 % for the embedded driver's
 * 5,000. Past this many ids most granules are read anyway, and evaluating the filter for each of
 * them (per part, per granule) only costs: with 5,000-id lookups it took longer than reading the
 * column (bench/ingest.js, BENCHMARKS.md §3).
 */
const BLOOM_FILTER_MAX_IDS = 500;

const sql = (useSkipIndexes: boolean) => `
SELECT DISTINCT toString(call_id) AS id
FROM ${TABLES.toolCalls}
WHERE ts >= fromUnixTimestamp64Milli({minTs:Int64}) AND ts <= fromUnixTimestamp64Milli({maxTs:Int64})
  AND call_id IN {ids:Array(UUID)}${useSkipIndexes ? '' : '\nSETTINGS use_skip_indexes = 0'}`;
const SQL_WITH_INDEX = sql(true);
const SQL_WITHOUT_INDEX = sql(false);

export const existingCallIds: ExistingKeys = async (store: Store, keys, minTsMs, maxTsMs) => {
  const found = new Set<string>();
  const per = IDS_PER_QUERY[store.driver];
  // A millisecond either side: the engine truncates sub-millisecond input the same way Date.parse does, but be generous.
  const bounds = { minTs: Math.floor(minTsMs) - 1, maxTs: Math.ceil(maxTsMs) + 1 };
  for (let i = 0; i < keys.length; i += per) {
    const ids = keys.slice(i, i + per);
    const rows = await store.query<{ id: string }>(ids.length <= BLOOM_FILTER_MAX_IDS ? SQL_WITH_INDEX : SQL_WITHOUT_INDEX, { ...bounds, ids });
    for (const r of rows) found.add(r.id);
  }
  return found;
};
