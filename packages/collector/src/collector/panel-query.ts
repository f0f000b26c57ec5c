/**
 * The console's panel reads: a dashboard definition's panel (or variable)
 * SQL with the time range, interval and variable selection expanded exactly
 * as Grafana expands it (alerts/macros.ts), after the selection has been
 * validated and narrowed to the reader's tenant. No SQL here: it all comes
 * from src/dashboards.
 */
import { ALL, renderQuery, type TemplateVariable } from '../alerts/macros.js';
import { MAX_SINCE_SECONDS, parseSince } from '../audit/index.js';
import { DASHBOARD_DEFS, type DashboardDef, type PanelDef, type VariableSpec } from '../dashboards/index.js';
import { HttpError } from './errors.js';

export interface TimeRange {
  from: Date;
  to: Date;
  /** `$__interval_s` / `$__timeInterval`'s bucket. */
  intervalMs: number;
}

/** Parameters that set the range; every other query parameter names a variable. */
const RANGE_PARAMS = new Set(['since', 'from', 'to']);

const MINUTE = 60_000;
/** Bucket sizes, the rollup's minute first; a range gets the smallest that keeps it under MAX_POINTS buckets. */
const STEPS_MS = [1, 2, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440].map((m) => m * MINUTE);
/** About one point per 5 px of a wide chart: 6 h in 2-minute buckets, 30 d in 3-hour ones. */
export const MAX_POINTS = 240;

export function intervalFor(rangeMs: number): number {
  const raw = rangeMs / MAX_POINTS;
  return STEPS_MS.find((s) => s >= raw) ?? STEPS_MS[STEPS_MS.length - 1]!;
}

/** The default range of a dashboard: its Grafana `from` (`now-6h` → `6h`). */
export const defaultSince = (def: DashboardDef) => def.from.slice('now-'.length);

function single(query: Record<string, unknown>, name: string): string | undefined {
  const v = query[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new HttpError(400, `${name} must be given once`);
  return v;
}

const EPOCH_MS = /^\d{1,15}$/;

/** `since=6h` (default: the dashboard's), or `from`/`to` in epoch milliseconds (`to` defaults to now). */
export function parseRange(query: Record<string, unknown>, fallbackSince: string, now = new Date()): TimeRange {
  const since = single(query, 'since');
  const fromText = single(query, 'from');
  const toText = single(query, 'to');
  if (since !== undefined && (fromText !== undefined || toText !== undefined)) throw new HttpError(400, 'give either since or from/to, not both');
  if (fromText === undefined && toText !== undefined) throw new HttpError(400, 'to needs from');
  let from: Date;
  let to: Date;
  if (fromText !== undefined) {
    if (!EPOCH_MS.test(fromText) || (toText !== undefined && !EPOCH_MS.test(toText))) throw new HttpError(400, 'from and to must be epoch milliseconds');
    from = new Date(Number(fromText));
    to = toText === undefined ? now : new Date(Number(toText));
    if (!(from < to)) throw new HttpError(400, 'from must be before to');
    if (to.getTime() - from.getTime() > MAX_SINCE_SECONDS * 1000) throw new HttpError(400, `the range must be at most ${MAX_SINCE_SECONDS / 86_400}d`);
  } else {
    let seconds: number;
    try {
      seconds = parseSince(since ?? fallbackSince);
    } catch (err) {
      throw new HttpError(400, (err as Error).message);
    }
    to = now;
    from = new Date(now.getTime() - seconds * 1000);
  }
  return { from, to, intervalMs: intervalFor(to.getTime() - from.getTime()) };
}

/**
 * What a variable value may contain. Grafana's `:singlequote` escapes `'` but
 * not `\`, so a value could end the string literal it is put in; values made
 * of these characters (tenant ids, tool and agent names) cannot.
 */
export const VARIABLE_VALUE = /^[\p{L}\p{N}._:@/+=-]{1,128}$/u;
const MAX_VALUES = 50;

export type Selection = Map<string, string[]>;

/** The variables a request selects (`?tenant=acme&tool=a&tool=b`); a variable left out is "All". */
export function parseSelection(def: DashboardDef, query: Record<string, unknown>): Selection {
  const selection: Selection = new Map();
  for (const [name, raw] of Object.entries(query)) {
    if (RANGE_PARAMS.has(name)) continue;
    const variable = def.variables.find((v) => v.name === name);
    if (!variable) throw new HttpError(400, `unknown parameter: ${name} (the ${def.id} dashboard's variables are ${def.variables.map((v) => v.name).join(', ')})`);
    const values = Array.isArray(raw) ? raw : [raw];
    if (values.length > MAX_VALUES) throw new HttpError(400, `${name}: at most ${MAX_VALUES} values`);
    for (const value of values) {
      if (typeof value !== 'string' || !VARIABLE_VALUE.test(value)) {
        throw new HttpError(400, `${name}: values are 1 to 128 letters, digits or . _ : @ / + = -`);
      }
    }
    if (variable.multi === false && values.length > 1) throw new HttpError(400, `${name} takes one value`);
    selection.set(name, values as string[]);
  }
  return selection;
}

/** Whether a query narrows itself to the `tenant` variable's selection (so a tenant-scoped reader may run it). */
export function readsTenant(sql: string): boolean {
  return sql.includes('${tenant:singlequote}');
}

/**
 * A tenant-scoped reader's selection: its own tenant, always. Asking for
 * another tenant is a 403, as on /api/calls.
 */
export function scopeSelection(def: DashboardDef, selection: Selection, tenant: string | undefined): void {
  if (tenant === undefined) return;
  if (!def.variables.some((v) => v.name === 'tenant')) throw new HttpError(403, 'this dashboard spans tenants; a tenant-scoped read token cannot read it');
  const asked = selection.get('tenant');
  if (asked?.some((t) => t !== tenant)) throw new HttpError(403, 'this read token is scoped to another tenant');
  selection.set('tenant', [tenant]);
}

const references = (sql: string, name: string) => new RegExp(`\\$(\\{)?${name}\\b`).test(sql);

function templateVariables(def: DashboardDef, sql: string, selection: Selection): TemplateVariable[] {
  return def.variables.map((v) => {
    const values = selection.get(v.name);
    if (values === undefined) {
      if (v.includeAll === false && references(sql, v.name)) throw new HttpError(400, `${v.name} is required`);
      return { name: v.name, value: [ALL], options: [] };
    }
    return { name: v.name, value: v.multi === false ? values[0]! : values };
  });
}

export function findDashboard(id: string): DashboardDef {
  const def = DASHBOARD_DEFS.find((d) => d.id === id);
  if (!def) throw new HttpError(404, `no dashboard ${JSON.stringify(id)}; one of ${DASHBOARD_DEFS.map((d) => d.id).join(', ')}`);
  return def;
}

export function findPanel(def: DashboardDef, id: string): PanelDef {
  const panel = def.panels.find((p) => p.id === id);
  if (!panel) throw new HttpError(404, `the ${def.id} dashboard has no panel ${JSON.stringify(id)}`);
  return panel;
}

export function findVariable(def: DashboardDef, name: string): VariableSpec {
  const variable = def.variables.find((v) => v.name === name);
  if (!variable) throw new HttpError(404, `the ${def.id} dashboard has no variable ${JSON.stringify(name)}`);
  return variable;
}

/** The SQL ClickHouse runs for a panel or variable query of `def`, for this reader. */
export function renderFor(def: DashboardDef, sql: string, range: TimeRange, selection: Selection, tenant: string | undefined): string {
  if (tenant !== undefined && !readsTenant(sql)) throw new HttpError(403, 'this panel reads across tenants; a tenant-scoped read token cannot read it');
  return renderQuery(sql, range, templateVariables(def, sql, selection));
}
