import { Field } from '../components/Field.js';
import { AlertLinks, useAlerts } from '../components/AlertList.js';
import { ErrorNote } from '../components/ErrorNote.js';
import { formatTime, formatValue } from '../format.js';
import { useSearch, useUpdateSearch } from '../hooks.js';
import { refreshMs } from '../range.js';

const STATES = ['firing', 'pending', 'resolved'] as const;

/** `/alerts`: what the rules see now, and what fired and resolved recently, each linked to its tenant and tool. */
export function AlertsPage() {
  const search = useSearch();
  const update = useUpdateSearch();
  const stateFilter = search.get('state') ?? '';
  const { data, error } = useAlerts(refreshMs(search.get('refresh') ?? '30s'));
  const order = (s: string) => STATES.indexOf(s as (typeof STATES)[number]);
  const alerts = (data?.alerts ?? [])
    .filter((a) => !stateFilter || a.state === stateFilter)
    .sort((a, b) => order(a.state) - order(b.state) || (b.firedAt ?? b.activeAt).localeCompare(a.firedAt ?? a.activeAt));
  const state = data ? 'ready' : error ? 'error' : 'loading';
  return (
    <main id="main" data-page="alerts">
      <h1 tabIndex={-1}>Alerts</h1>
      <form class="toolbar" aria-label="Filter alerts" onSubmit={(e) => e.preventDefault()}>
        <Field label="State">
          {(id) => (
            <select id={id} value={stateFilter} onChange={(e) => update({ state: e.currentTarget.value || undefined })}>
              <option value="">All</option>
              {STATES.map((s) => (
                <option key={s} value={s}>
                  {s}
                </option>
              ))}
            </select>
          )}
        </Field>
        {data?.evaluatedAt && <span class="muted">Rules last evaluated {formatTime(data.evaluatedAt)} UTC, every minute.</span>}
        {data && !data.evaluatedAt && <span class="muted">The rules have not been evaluated yet (the evaluator runs every minute).</span>}
      </form>
      <section data-state={state} data-panel="alerts" aria-labelledby="alerts-title">
        <h2 id="alerts-title">
          Alerts <span class="count">{alerts.length}</span>
        </h2>
        {error && <ErrorNote error={error} />}
        {data && alerts.length === 0 && <p class="muted">No {stateFilter || ''} alerts.</p>}
        {alerts.length > 0 && (
          <div class="table-scroll">
            <table>
              <caption class="visually-hidden">Alerts: firing first, then pending, then recently resolved</caption>
              <thead>
                <tr>
                  {['State', 'Alert', 'Where', 'Value', 'Active since', 'Fired', 'Resolved', 'Summary'].map((h) => (
                    <th scope="col" key={h}>
                      {h}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {alerts.map((a) => (
                  <tr key={`${a.fingerprint}-${a.state}`} data-alert-state={a.state}>
                    <td>
                      <span class={`badge ${a.state}`}>{a.state}</span>
                    </td>
                    <td>{a.title}</td>
                    <td>
                      <AlertLinks alert={a} />
                    </td>
                    <td class="num">{formatValue(a.value, 'short')}</td>
                    <td>{formatTime(a.activeAt)}</td>
                    <td>{a.firedAt ? formatTime(a.firedAt) : '–'}</td>
                    <td>{a.resolvedAt ? formatTime(a.resolvedAt) : '–'}</td>
                    <td>{a.annotations.summary ?? ''}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
      <section data-state={state} data-panel="rules" aria-labelledby="rules-title">
        <h2 id="rules-title">Rules</h2>
        {data && (
          <div class="table-scroll">
            <table>
              <caption class="visually-hidden">Alert rules and their evaluation health</caption>
              <thead>
                <tr>
                  {['Rule', 'Severity', 'Health', 'Last evaluated'].map((h) => (
                    <th scope="col" key={h}>
                      {h}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {data.rules.map((r) => (
                  <tr key={r.uid}>
                    <td>{r.title}</td>
                    <td>{r.severity}</td>
                    <td>
                      {r.health}
                      {r.lastError ? ` (${r.lastError})` : ''}
                    </td>
                    <td>{r.lastEvaluatedAt ? formatTime(r.lastEvaluatedAt) : '–'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </main>
  );
}
