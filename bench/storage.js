/** §5 Storage: compressed bytes per row after OPTIMIZE ... FINAL, and the columns that cost most. */
import { fmt } from './lib.js';

export async function measureStorage(store) {
  const out = {};
  for (const table of ['tool_calls', 'otel_traces']) {
    const t0 = performance.now();
    await store.exec(`OPTIMIZE TABLE mcptrail.${table} FINAL`);
    const optimizeMs = performance.now() - t0;
    const [p] = await store.query(`
SELECT sum(rows) AS rows, sum(data_compressed_bytes) AS compressed, sum(data_uncompressed_bytes) AS uncompressed,
       sum(bytes_on_disk) AS on_disk, sum(secondary_indices_compressed_bytes) AS skip_indices, count() AS parts
FROM system.parts WHERE database = 'mcptrail' AND table = '${table}' AND active`);
    const columns = await store.query(`
SELECT name, type, data_compressed_bytes AS compressed, data_uncompressed_bytes AS uncompressed
FROM system.columns WHERE database = 'mcptrail' AND table = '${table}' AND data_compressed_bytes > 0
ORDER BY data_compressed_bytes DESC`);
    const rows = Number(p.rows);
    out[table] = {
      rows,
      parts: Number(p.parts),
      optimizeMs,
      compressedPerRow: Number(p.compressed) / rows,
      uncompressedPerRow: Number(p.uncompressed) / rows,
      onDiskPerRow: Number(p.on_disk) / rows,
      skipIndicesPerRow: Number(p.skip_indices) / rows,
      columns: columns.map((c) => ({ name: c.name, type: c.type, perRow: Number(c.compressed) / rows, ratio: Number(c.uncompressed) / Math.max(1, Number(c.compressed)) })),
    };
  }
  return out;
}

export function table(result) {
  const summary = ['| table | rows | compressed bytes/row | on disk bytes/row (incl. indexes, marks) | skip indexes bytes/row | uncompressed bytes/row | goal |', '|---|---|---|---|---|---|---|'];
  for (const [name, t] of Object.entries(result)) {
    const goal = name === 'tool_calls' ? (t.compressedPerRow <= 40 ? 'met (≤ 40)' : '**missed** (≤ 40)') : '—';
    summary.push(`| ${name} | ${t.rows.toLocaleString('en-US')} | **${fmt(t.compressedPerRow, 1)}** | ${fmt(t.onDiskPerRow, 1)} | ${fmt(t.skipIndicesPerRow, 2)} | ${fmt(t.uncompressedPerRow, 1)} | ${goal} |`);
  }
  const cols = (name, n) => {
    const t = result[name];
    return [`Top columns of \`${name}\` (compressed bytes per row):`, '', '| column | type | bytes/row | compression ratio |', '|---|---|---|---|', ...t.columns.slice(0, n).map((c) => `| ${c.name} | \`${c.type.length > 60 ? c.type.slice(0, 57) + '...' : c.type}\` | ${fmt(c.perRow, 2)} | ${fmt(c.ratio, 1)}× |`)].join('\n');
  };
  return [summary.join('\n'), cols('tool_calls', 10), cols('otel_traces', 8)].join('\n\n');
}
