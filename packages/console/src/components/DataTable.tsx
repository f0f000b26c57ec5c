import { columnLabel, formatCell } from '../format.js';
import { qs } from '../api.js';
import { rangeParams, type Range } from '../range.js';

interface Props {
  caption: string;
  columns: string[];
  rows: unknown[][];
  /** The page's range: links keep it. */
  range: Range;
  /** Filters a calls link keeps (the tenant of a tenant page). */
  callsFilter?: Array<[string, string]>;
}

/** Cells that open another page: a tenant's dashboard, a tool's calls, a trace. */
function link(column: string, value: unknown, range: Range, callsFilter: Array<[string, string]>): string | undefined {
  if (typeof value !== 'string' || value === '') return undefined;
  // The calls page looks back `since` from now, as `mcptrail calls` does.
  const since: Array<[string, string]> = 'since' in range ? [['since', range.since]] : [];
  if (column === 'tenant_id') return `/tenants/${encodeURIComponent(value)}${qs(rangeParams(range))}`;
  if (column === 'tool') return `/calls${qs([...callsFilter, ['tool', value], ...since])}`;
  if (column === 'agent_id') return `/calls${qs([...callsFilter, ['agent', value], ...since])}`;
  if (column === 'trace_id') return `/traces/${encodeURIComponent(value)}`;
  return undefined;
}

export function DataTable({ caption, columns, rows, range, callsFilter = [] }: Props) {
  return (
    <div class="table-scroll">
      <table>
        <caption class="visually-hidden">{caption}</caption>
        <thead>
          <tr>
            {columns.map((c) => (
              <th scope="col" key={c}>
                {columnLabel(c)}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((row, r) => (
            <tr key={r}>
              {row.map((value, i) => {
                const column = columns[i]!;
                const href = link(column, value, range, callsFilter);
                const text = formatCell(column, value);
                return (
                  <td key={column} class={typeof value === 'number' ? 'num' : undefined}>
                    {href ? <a href={href}>{text}</a> : text}
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
