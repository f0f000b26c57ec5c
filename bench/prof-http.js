/**
 * Where a server's CPU goes per request: `node bench/prof-http.js FILE CALLS [FILE2 CALLS2]`.
 * CALLS = requests the profiled process served (its profile covers all of them).
 * Prints, per request, the inclusive time of the stacks that pass through each
 * bucket below (buckets do not overlap: see bucketOf),
 * and with a second profile (bare) the difference per bucket.
 */
import { readFileSync } from 'node:fs';

// Leaf-to-root: the first frame matching a bucket's test claims the sample.
const BUCKETS = [
  ['spool write (writeSync per record)', (f) => /record\/spool\.js/.test(f.url) && /push/.test(f.functionName)],
  ['spool cursor/read (ack, peek)', (f) => /record\/spool\.js/.test(f.url)],
  ['shipper send (node:http to the sink)', (f) => /record\/(transport|shipper)\.js/.test(f.url)],
  ['record build + sink + log line', (f) => /instrument\/record-builder\.js|record\/(sink|record-line|logger|redact|secrets)\.js|args-summary|summar/.test(f.url)],
  ['span (tool-span + OTel SDK)', (f) => /instrument\/tool-span\.js|@opentelemetry\/sdk-trace|@opentelemetry\/core/.test(f.url)],
  ['auth (authenticate)', (f) => /auth\/(api-keys|authenticator|jwt|jwt-cache)\.js/.test(f.url)],
  ['instrument() per request', (f) => /instrument\/instrument\.js/.test(f.url) && /^instrument$/.test(f.functionName)],
  ['SDK: McpServer/Server construction (Ajv)', (f) => /ajv/.test(f.url) || (/@modelcontextprotocol\/sdk/.test(f.url) && /^(McpServer|Server|Protocol)$/.test(f.functionName))],
  ['zod (SDK input/output validation)', (f) => /zod/.test(f.url)],
  ['pipeline (rest of the wrapped handler)', (f) => /mcptrail\/dist\/instrument\/(pipeline|call-context|output-safety|safe-result|handler-hooks|rounds|policy|identity|request-info|tool-list|sdk-internals)\.js/.test(f.url)],
  ['SDK: transport + protocol', (f) => /@modelcontextprotocol\/sdk|@hono/.test(f.url)],
  ['mcptrail http app / edge', (f) => /mcptrail\/dist\/instrument\/(http-app|fastify|edge-|origin|trace-parent)/.test(f.url)],
  ['other mcptrail', (f) => /mcptrail\/dist\//.test(f.url)],
  ['async_hooks / ALS (promise hooks)', (f) => /async_hooks|promiseInitHook|emitInit|AsyncLocalStorage|async_context/.test(f.url + f.functionName)],
  ['fastify', (f) => /fastify|find-my-way|avvio|light-my-request|secure-json-parse/.test(f.url)],
  ['node http / net', (f) => /node:_http|node:net|node:internal\/stream|node:stream|writev|writeBuffer/.test(f.url + f.functionName)],
  ['GC', (f) => f.functionName === '(garbage collector)'],
];

export function buckets(file) {
  const p = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(p.nodes.map((x) => [x.id, x]));
  const parent = new Map();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const cache = new Map();
  // Leaf-level buckets (GC, promise hooks) claim a sample by its leaf; otherwise the first bucket in
  // BUCKETS order that any frame of the stack matches (ours before the SDK's before node's).
  const LEAF = new Set(['GC', 'async_hooks / ALS (promise hooks)']);
  const bucketOf = (id) => {
    if (cache.has(id)) return cache.get(id);
    const stack = [];
    for (let cur = id; cur !== undefined; cur = parent.get(cur)) stack.push(byId.get(cur).callFrame);
    const leaf = stack[0];
    let b;
    if (leaf.functionName === '(idle)') b = 'idle';
    else if (leaf.functionName === '(program)') b = 'program';
    else b = BUCKETS.find(([name, test]) => LEAF.has(name) && (test(leaf) || (stack[1] && test(stack[1]))))?.[0];
    b ??= BUCKETS.find(([name, test]) => !LEAF.has(name) && stack.some(test))?.[0] ?? 'other';
    cache.set(id, b);
    return b;
  };
  const us = new Map();
  for (let i = 0; i < p.samples.length; i++) {
    const b = bucketOf(p.samples[i]);
    us.set(b, (us.get(b) ?? 0) + (p.timeDeltas[i] ?? 0));
  }
  return us;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [file, calls, file2, calls2] = process.argv.slice(2);
  const a = buckets(file);
  const b = file2 ? buckets(file2) : new Map();
  const names = [...new Set([...a.keys(), ...b.keys()])].filter((n) => n !== 'idle');
  const per = (m, n, c) => (m.get(n) ?? 0) / Number(c);
  const rows = names.map((n) => [n, per(a, n, calls), file2 ? per(b, n, calls2) : 0]).sort((x, y) => y[1] - x[1]);
  console.log(`| bucket | µs/request${file2 ? ' | bare µs/request | difference' : ''} |`);
  let ta = 0, tb = 0;
  for (const [n, x, y] of rows) {
    ta += x; tb += y;
    console.log(`| ${n} | ${x.toFixed(1)}${file2 ? ` | ${y.toFixed(1)} | ${(x - y).toFixed(1)}` : ''} |`);
  }
  console.log(`| total (not idle) | ${ta.toFixed(1)}${file2 ? ` | ${tb.toFixed(1)} | ${(ta - tb).toFixed(1)}` : ''} |`);
}
