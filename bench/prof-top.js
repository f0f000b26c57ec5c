/** Top self-time functions of a .cpuprofile: `node bench/prof-top.js FILE [N]`. */
import { readFileSync } from 'node:fs';

export function topSelf(file, n = 15) {
  const p = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(p.nodes.map((x) => [x.id, x]));
  const self = new Map();
  const dt = p.timeDeltas;
  let total = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const node = byId.get(p.samples[i]);
    const us = dt[i] ?? 0;
    total += us;
    const cf = node.callFrame;
    const key = `${cf.functionName || '(anonymous)'} ${cf.url.replace(/^file:\/\/\/work\/main\//, '').replace(/.*node_modules\//, '~/')}:${cf.lineNumber + 1}`;
    self.set(key, (self.get(key) ?? 0) + us);
  }
  return { totalMs: total / 1000, top: [...self].sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, us]) => ({ fn: k, ms: us / 1000, pct: (us / total) * 100 })) };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = topSelf(process.argv[2], Number(process.argv[3] ?? 15));
  console.log(`total ${r.totalMs.toFixed(0)} ms`);
  for (const t of r.top) console.log(`${t.pct.toFixed(1).padStart(5)} %  ${t.ms.toFixed(0).padStart(6)} ms  ${t.fn}`);
}
