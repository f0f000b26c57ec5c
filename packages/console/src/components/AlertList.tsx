import { getJson, qs, type AlertView, type AlertsSnapshot } from '../api.js';
import { useData } from '../hooks.js';
import { formatTime, formatValue } from '../format.js';
import { ErrorNote } from './ErrorNote.js';

/** Where an alert points: its tenant's dashboard, and its tool's calls. */
export function AlertLinks({ alert }: { alert: AlertView }) {
  const tenant = alert.labels.tenant_id;
  const tool = alert.labels.tool;
  return (
    <>
      {tenant && <a href={`/tenants/${encodeURIComponent(tenant)}`}>{tenant}</a>}
      {tenant && tool && ' · '}
      {tool && (
        <a
          href={`/calls${qs([
            ['tenant', tenant],
            ['tool', tool],
            ['since', '1h'],
          ])}`}
        >
          {tool}
        </a>
      )}
      {!tenant && !tool && <span class="muted">fleet</span>}
    </>
  );
}

export const useAlerts = (refreshMs: number) => useData('/api/alerts', (signal) => getJson<AlertsSnapshot>('/api/alerts', signal), refreshMs);

/** The alerts firing now, optionally only one tenant's: the first thing to see at 2 am. */
export function FiringAlerts({ refreshMs, tenant }: { refreshMs: number; tenant?: string }) {
  const { data, error } = useAlerts(refreshMs || 30_000);
  const firing = (data?.alerts ?? []).filter((a) => a.state === 'firing' && (tenant === undefined || a.labels.tenant_id === tenant));
  const pending = (data?.alerts ?? []).filter((a) => a.state === 'pending' && (tenant === undefined || a.labels.tenant_id === tenant));
  const state = data ? (firing.length ? 'ready' : 'empty') : error ? 'error' : 'loading';
  return (
    <section class="alerts-strip" aria-labelledby="firing-title" data-state={state} data-panel="firing-alerts">
      <h2 id="firing-title">
        Firing alerts{tenant ? ` for ${tenant}` : ''} <span class="count">{data ? firing.length : '…'}</span>
      </h2>
      {error && <ErrorNote error={error} />}
      {data && firing.length === 0 && <p class="muted">Nothing is firing{data.evaluatedAt ? ` (rules evaluated ${formatTime(data.evaluatedAt)} UTC)` : ''}.</p>}
      {pending.length > 0 && (
        <p class="muted">
          <a href="/alerts?state=pending">{pending.length} pending</a>: {pending.map((a) => `${a.title}${a.labels.tenant_id ? ` (${a.labels.tenant_id})` : ''}`).join(', ')}.
        </p>
      )}
      {firing.length > 0 && (
        <ul class="firing">
          {firing.map((a) => (
            <li key={a.fingerprint}>
              <span class={`badge ${a.labels.severity ?? ''}`}>{a.labels.severity ?? 'alert'}</span> <a href={`/alerts?state=firing`}>{a.title}</a> —{' '}
              <AlertLinks alert={a} />{' '}
              <span class="muted">
                value {formatValue(a.value, 'short')}, since {a.firedAt ? formatTime(a.firedAt) : '–'}
              </span>
              {a.annotations.summary && <div class="summary">{a.annotations.summary}</div>}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
