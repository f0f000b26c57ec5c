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

const SQL = `
SELECT DISTINCT toString(call_id) AS id
FROM ${TABLES.toolCalls}
WHERE ts >= fromUnixTimestamp64Milli({minTs:Int64}) AND ts <= fromUnixTimestamp64Milli({maxTs:Int64})
  AND call_id IN {ids:Array(UUID)}`;

export const existingCallIds: ExistingKeys = async (store: Store, keys, minTsMs, maxTsMs) => {
  const found = new Set<string>();
  const per = IDS_PER_QUERY[store.driver];
  // A millisecond either side: the engine truncates sub-millisecond input the same way Date.parse does, but be generous.
  const bounds = { minTs: Math.floor(minTsMs) - 1, maxTs: Math.ceil(maxTsMs) + 1 };
  for (let i = 0; i < keys.length; i += per) {
    const rows = await store.query<{ id: string }>(SQL, { ...bounds, ids: keys.slice(i, i + per) });
    for (const r of rows) found.add(r.id);
  }
  return found;
};
