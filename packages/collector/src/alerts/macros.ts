/**
 * Macro and template-variable expansion, exactly as Grafana's ClickHouse
 * datasource does it, so the built-in evaluator and the tests run the very SQL
 * Grafana would send to ClickHouse.
 *
 * Followed sources (grafana/clickhouse-datasource @ 1d04063a31fb30f9582cd0b3aeaacb7d350b0dcf, v4.20.0):
 *  - pkg/macros/macros.go: backend macros ($__timeFilter, $__timeFilter_ms, $__fromTime, $__toTime,
 *    $__fromTime_ms, $__toTime_ms, $__dateFilter, $__dateTimeFilter/$__dt, $__timeFrom, $__timeTo,
 *    $__timeInterval, $__timeInterval_ms, $__interval_s, $__timeGroup). Expansion runs through
 *    grafana/macropro v1.0.1 (unknown macros stay as they are; macros inside comments and string
 *    literals are not expanded).
 *  - src/data/CHDatasource.ts: applyTemplateVariables() → applyConditionalAll() (frontend
 *    `$__conditionalAll`, with getMacroArgs()), then templateSrv.replace(sql, scoped, this.format)
 *    whose default format joins arrays as '${value.join("','")}' and passes scalars raw.
 *  - grafana/scenes packages/scenes/src/variables/interpolation/formatRegistry.ts: `:singlequote`
 *    (each value wrapped in '…', `'` escaped as `\'`, joined with ',') and `:raw`/`:csv`/`:doublequote`.
 *
 * Order matters and mirrors Grafana: the frontend interpolates variables and $__conditionalAll
 * first (dashboards only; alert queries have no variables), the backend expands $__ macros second.
 */

/** The query's time range and interval, as Grafana hands them to the backend. */
export interface MacroContext {
  from: Date;
  to: Date;
  /** The query interval ($__interval_s, $__timeInterval); Grafana derives it from range / max data points. */
  intervalMs?: number;
}

type MacroFn = (ctx: MacroContext, args: string[]) => string;

const seconds = (t: Date) => Math.floor(t.getTime() / 1000);
const toDateTime = (t: Date) => `toDateTime(${seconds(t)})`;
const toDateTime64 = (t: Date) => `fromUnixTimestamp64Milli(${Math.floor(t.getTime())})`;
const toDate = (t: Date) => `toDate('${t.toISOString().slice(0, 10)}')`;
const intervalSeconds = (ctx: MacroContext) => Math.trunc(Math.max((ctx.intervalMs ?? 0) / 1000, 1));
const intervalMillis = (ctx: MacroContext) => Math.trunc(Math.max(Math.trunc(ctx.intervalMs ?? 0), 1));

function expectArgs(name: string, args: string[], want: number): void {
  if (args.length !== want) {
    throw new MacroError(`$__${name} expected ${want} argument(s), received ${args.length}`);
  }
}

export class MacroError extends Error {
  override readonly name = 'MacroError';
}

const MACROS: Record<string, MacroFn> = {
  fromTime: (ctx) => toDateTime(ctx.from),
  toTime: (ctx) => toDateTime(ctx.to),
  fromTime_ms: (ctx) => toDateTime64(ctx.from),
  toTime_ms: (ctx) => toDateTime64(ctx.to),
  timeFilter: (ctx, args) => {
    expectArgs('timeFilter', args, 1);
    const c = args[0];
    return `${c} >= ${toDateTime(ctx.from)} AND ${c} <= ${toDateTime(ctx.to)}`;
  },
  timeFilter_ms: (ctx, args) => {
    expectArgs('timeFilter_ms', args, 1);
    const c = args[0];
    return `${c} >= ${toDateTime64(ctx.from)} AND ${c} <= ${toDateTime64(ctx.to)}`;
  },
  dateFilter: (ctx, args) => {
    expectArgs('dateFilter', args, 1);
    const c = args[0];
    return `${c} >= ${toDate(ctx.from)} AND ${c} <= ${toDate(ctx.to)}`;
  },
  dateTimeFilter: (ctx, args) => dateTimeFilter(ctx, args),
  dt: (ctx, args) => dateTimeFilter(ctx, args),
  timeFrom: (ctx, args) => {
    expectArgs('timeFrom', args, 1);
    return `${args[0]} >= ${toDateTime(ctx.from)}`;
  },
  timeTo: (ctx, args) => {
    expectArgs('timeTo', args, 1);
    return `${args[0]} <= ${toDateTime(ctx.to)}`;
  },
  timeInterval: (ctx, args) => {
    expectArgs('timeInterval', args, 1);
    return `toStartOfInterval(toDateTime(${args[0]}), INTERVAL ${intervalSeconds(ctx)} second)`;
  },
  timeInterval_ms: (ctx, args) => {
    expectArgs('timeInterval_ms', args, 1);
    return `toStartOfInterval(toDateTime64(${args[0]}, 3), INTERVAL ${intervalMillis(ctx)} millisecond)`;
  },
  interval_s: (ctx) => String(intervalSeconds(ctx)),
  timeGroup: (_ctx, args) => {
    expectArgs('timeGroup', args, 2);
    const period = args[1].trim().replace(/^['"]+|['"]+$/g, '');
    const secs = Math.round(parseGoDuration(period) / 1000);
    if (secs <= 0) throw new MacroError(`$__timeGroup: interval must be positive, got "${period}"`);
    return `toStartOfInterval(toDateTime(${args[0].trim()}), INTERVAL ${secs} second)`;
  },
};

function dateTimeFilter(ctx: MacroContext, args: string[]): string {
  expectArgs('dateTimeFilter', args, 2);
  const [d, t] = args;
  return `(${d} >= ${toDate(ctx.from)} AND ${d} <= ${toDate(ctx.to)}) AND (${t} >= ${toDateTime(ctx.from)} AND ${t} <= ${toDateTime(ctx.to)})`;
}

/** Go's time.ParseDuration ("5m", "1h30m", "250ms", "1.5h"), in milliseconds. */
export function parseGoDuration(text: string): number {
  const units: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let consumed = 0;
  let sign = 1;
  let body = text;
  if (body.startsWith('-') || body.startsWith('+')) {
    sign = body.startsWith('-') ? -1 : 1;
    body = body.slice(1);
  }
  if (body === '0') return 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(body)) !== null) {
    total += Number(m[1]) * units[m[2]];
    consumed = re.lastIndex;
  }
  if (body === '' || consumed !== body.length) throw new MacroError(`invalid duration "${text}"`);
  return sign * total;
}

/**
 * Expands every `$__name(...)` backend macro. Unknown macros are left as they
 * are (macropro does the same); nothing inside comments or quoted strings is touched.
 */
export function expandMacros(sql: string, ctx: MacroContext): string {
  let out = '';
  let i = 0;
  while (i < sql.length) {
    const skip = skipInert(sql, i);
    if (skip > i) {
      out += sql.slice(i, skip);
      i = skip;
      continue;
    }
    if (sql.startsWith('$__', i)) {
      const nameMatch = /^[A-Za-z0-9_]+/.exec(sql.slice(i + 3));
      const name = nameMatch?.[0] ?? '';
      const fn = Object.hasOwn(MACROS, name) ? MACROS[name] : undefined;
      if (fn) {
        let end = i + 3 + name.length;
        let args: string[] = [];
        if (sql[end] === '(') {
          const parsed = parseArgs(sql, end);
          args = parsed.args.map((a) => a.trim());
          end = parsed.end;
        }
        out += fn(ctx, args);
        i = end;
        continue;
      }
    }
    out += sql[i];
    i += 1;
  }
  return out;
}

/** Returns the index after a comment, string literal or quoted identifier starting at i; i when none starts there. */
function skipInert(sql: string, i: number): number {
  const c = sql[i];
  if (c === '-' && sql[i + 1] === '-') {
    const nl = sql.indexOf('\n', i);
    return nl === -1 ? sql.length : nl;
  }
  if (c === '/' && sql[i + 1] === '*') {
    const close = sql.indexOf('*/', i + 2);
    return close === -1 ? sql.length : close + 2;
  }
  if (c === "'" || c === '"' || c === '`') {
    let j = i + 1;
    while (j < sql.length) {
      if (sql[j] === '\\') j += 2;
      else if (sql[j] === c) return j + 1;
      else j += 1;
    }
    return sql.length;
  }
  return i;
}

/** Arguments of a call whose '(' is at `open`: split on top-level commas, nesting and strings respected. */
function parseArgs(sql: string, open: number): { args: string[]; end: number } {
  const args: string[] = [];
  let depth = 0;
  let start = open + 1;
  let i = open;
  while (i < sql.length) {
    const skip = skipInert(sql, i);
    if (skip > i) {
      i = skip;
      continue;
    }
    const c = sql[i];
    if (c === '(') depth += 1;
    else if (c === ')') {
      depth -= 1;
      if (depth === 0) {
        const last = sql.slice(start, i);
        if (args.length > 0 || last.trim() !== '') args.push(last);
        return { args, end: i + 1 };
      }
    } else if (c === ',' && depth === 1) {
      args.push(sql.slice(start, i));
      start = i + 1;
    }
    i += 1;
  }
  throw new MacroError('unbalanced parentheses in macro call');
}

// ---------------------------------------------------------------------------
// Template variables (dashboard queries only: Grafana does this in the browser)

/** A dashboard variable's current selection. */
export interface TemplateVariable {
  name: string;
  /** The selected value(s); `'$__all'` (or `['$__all']`) when "All" is selected. */
  value: string | readonly string[];
  /** The variable's options without "All": what "All" stands for when there is no custom all value. */
  options?: readonly string[];
  /** The variable's custom all value, when it has one. */
  allValue?: string;
}

export const ALL = '$__all';

function isAll(v: TemplateVariable): boolean {
  return Array.isArray(v.value) ? v.value.includes(ALL) : v.value === ALL;
}

/** What the variable stands for once "All" is resolved. */
function resolvedValue(v: TemplateVariable): string | readonly string[] {
  if (!isAll(v)) return v.value;
  if (v.allValue !== undefined) return v.allValue;
  return v.options ?? [];
}

/** CHDatasource.applyConditionalAll: `$__conditionalAll(cond, $var)` → cond, or 1=1 when $var is '' or All. */
export function applyConditionalAll(rawQuery: string, variables: readonly TemplateVariable[]): string {
  if (!rawQuery) return rawQuery;
  const macro = '$__conditionalAll(';
  let macroIndex = rawQuery.lastIndexOf(macro);
  while (macroIndex !== -1) {
    const params = getMacroArgs(rawQuery, macroIndex + macro.length - 1);
    if (params.length !== 2) return rawQuery;
    const templateVarParam = params[1].trim();
    const templateVar = /(?<=\$\{)[\w\d]+(?=\})|(?<=\$)[\w\d]+/.exec(templateVarParam);
    let phrase = params[0];
    if (templateVar) {
      const key = variables.find((x) => x.name === templateVar[0]);
      // The plugin reads current.value.toString(): an array ['$__all'] reads as '$__all'.
      const value = key === undefined ? undefined : String(key.value);
      if (value === '' || value === ALL) phrase = '1=1';
    }
    // Same String.replace (first occurrence, string pattern) as the plugin.
    rawQuery = rawQuery.replace(`${macro}${params[0]},${params[1]})`, phrase);
    macroIndex = rawQuery.lastIndexOf(macro);
  }
  return rawQuery;
}

/** CHDatasource.getMacroArgs, verbatim in behaviour (no string awareness, like the plugin). */
function getMacroArgs(query: string, argsIndex: number): string[] {
  const args: string[] = [];
  const re = /\(|\)|,/g;
  let bracketCount = 0;
  let lastArgEndIndex = 1;
  let m: RegExpExecArray | null;
  const argsSubstr = query.substring(argsIndex, query.length);
  while ((m = re.exec(argsSubstr)) !== null) {
    const foundNode = m[0];
    if (foundNode === '(') bracketCount++;
    else if (foundNode === ')') bracketCount--;
    if (foundNode === ',' && bracketCount === 1) {
      args.push(argsSubstr.substring(lastArgEndIndex, re.lastIndex - 1));
      lastArgEndIndex = re.lastIndex;
    }
    if (bracketCount === 0) {
      args.push(argsSubstr.substring(lastArgEndIndex, re.lastIndex - 1));
      return args;
    }
  }
  return [];
}

type Formatter = (value: string | readonly string[]) => string;

const FORMATS: Record<string, Formatter> = {
  singlequote: (value) => {
    const q = (v: string) => `'${v.replace(/'/g, "\\'")}'`;
    return Array.isArray(value) ? value.map(q).join(',') : q(String(value));
  },
  doublequote: (value) => {
    const q = (v: string) => `"${v.replace(/"/g, '\\"')}"`;
    return Array.isArray(value) ? value.map(q).join(',') : q(String(value));
  },
  csv: (value) => (Array.isArray(value) ? value.join(',') : String(value)),
  raw: (value) => (Array.isArray(value) ? value.join(',') : String(value)),
};

/** The ClickHouse datasource's own format(): arrays quoted and joined (no escaping), scalars raw. */
const datasourceFormat: Formatter = (value) => (Array.isArray(value) ? `'${value.join("','")}'` : String(value));

/** templateSrv's variable syntax: $var, [[var]], [[var:fmt]], ${var}, ${var.field}, ${var:fmt}. */
const VARIABLE_RE = /\$(\w+)|\[\[(\w+?)(?::(\w+))?\]\]|\${(\w+)(?:\.([^:^}]+))?(?::([^}]+))?}/g;

/** templateSrv.replace with the datasource's format function; unknown names are left as they are. */
export function replaceVariables(sql: string, variables: readonly TemplateVariable[]): string {
  const byName = new Map(variables.map((v) => [v.name, v]));
  return sql.replace(VARIABLE_RE, (match, n1?: string, n2?: string, f2?: string, n3?: string, _field?: string, f3?: string) => {
    const name = n1 ?? n2 ?? n3 ?? '';
    const variable = byName.get(name);
    if (!variable) return match;
    const fmt = f2 ?? f3;
    const formatter = fmt === undefined ? datasourceFormat : FORMATS[fmt];
    if (!formatter) throw new MacroError(`unsupported variable format ":${fmt}"`);
    return formatter(resolvedValue(variable));
  });
}

/** What Grafana's frontend does to a dashboard query before it reaches the backend. */
export function applyTemplateVariables(sql: string, variables: readonly TemplateVariable[]): string {
  return replaceVariables(applyConditionalAll(sql, variables), variables);
}

/** Dashboard query → SQL ClickHouse runs: variables first (frontend), then macros (backend). */
export function renderQuery(sql: string, ctx: MacroContext, variables: readonly TemplateVariable[] = []): string {
  return expandMacros(applyTemplateVariables(sql, variables), ctx);
}
