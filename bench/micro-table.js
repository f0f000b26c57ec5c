/** Renders bench/micro.js results (kept apart so importing it runs no measurement). */
import { fmt } from './lib.js';

export function table({ changes, collectorParts: c }) {
  return [
    '| change (prototype in bench/micro.js) | before µs/op | after µs/op | saved µs per call |',
    '|---|---|---|---|',
    ...changes.map((r) => `| ${r.name} | ${fmt(r.beforeUs, 2)} | ${fmt(r.afterUs, 2)} | ${fmt(r.savedUs, 2)} |`),
    '',
    `Collector, JS share per record on a 5,000-record body: JSON.parse ${fmt(c.jsonParse, 2)} µs, zod safeParse ${fmt(c.zodSafeParse, 2)} µs, re-stringify ${fmt(c.reStringify, 2)} µs, dedup token sha256 of the body ${fmt(c.sha256OfStringBody, 2)} µs (of a Buffer ${fmt(c.sha256OfBufferBody, 2)} µs).`,
  ].join('\n');
}
