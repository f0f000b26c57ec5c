/**
 * Result allow-lists: dot paths compiled once into a tree, applied per call.
 * Arrays are transparent (a path applies to each element), so `contacts.name`
 * keeps the name of every contact; `[]` in a path is accepted and ignored.
 */
export type AllowTree = Map<string, AllowTree | true>;

export function compileAllowList(paths: readonly string[]): AllowTree {
  const root: AllowTree = new Map();
  for (const path of paths) {
    const segments = path.replace(/\[\]/g, '').split('.').filter(Boolean);
    let node = root;
    for (let i = 0; i < segments.length; i++) {
      const segment = segments[i]!;
      const existing = node.get(segment);
      // Already allowed whole: the deeper path adds nothing (and must not restart at this level).
      if (existing === true) break;
      if (i === segments.length - 1) {
        node.set(segment, true);
        break;
      }
      const child: AllowTree = existing ?? new Map();
      node.set(segment, child);
      node = child;
    }
  }
  return root;
}

/** The allowed part of `value`; undefined when nothing of it is allowed. */
export function applyAllowList(value: unknown, tree: AllowTree): unknown {
  if (Array.isArray(value)) return value.map((v) => applyAllowList(v, tree)).filter((v) => v !== undefined);
  if (value === null || typeof value !== 'object') return undefined;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    const rule = tree.get(key) ?? tree.get('*');
    if (rule === undefined) continue;
    const kept = rule === true ? v : applyAllowList(v, rule);
    if (kept !== undefined) out[key] = kept;
  }
  return out;
}
