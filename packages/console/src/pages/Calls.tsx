import { Field } from '../components/Field.js';
import { useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { getJson, qs, type CallRecord } from '../api.js';
import { ErrorNote } from '../components/ErrorNote.js';
import { formatTime, formatValue } from '../format.js';
import { useData, useSearch } from '../hooks.js';
import { refreshMs } from '../range.js';
import { useScopedTenant } from '../session.js';

export const OUTCOMES = ['ok', 'tool_error', 'system_error', 'deadline_exceeded', 'rate_limited', 'denied', 'unauthenticated', 'upstream_unavailable'] as const;
const SINCE = ['15m', '1h', '6h', '24h', '7d', '30d'] as const;
const PAGE_SIZES = ['50', '100', '500'] as const;
const FILTERS = ['tool', 'tenant', 'agent', 'outcome', 'intent', 'since'] as const;

/** The keyset cursor after a call (newest first): its ts in epoch ms and its id, as `/api/calls?before=` takes it. */
const cursorOf = (c: CallRecord) => `${Date.parse(c.ts)}_${c.call_id}`;

/** `/calls?tool=&tenant=&agent=&outcome=&intent=&since=`: `mcptrail calls` in the browser, newest first, paged. */
export function CallsPage() {
  const search = useSearch();
  const { route } = useLocation();
  const scoped = useScopedTenant();
  const filter = Object.fromEntries(FILTERS.map((k) => [k, search.get(k) ?? ''])) as Filter;
  const limit = search.get('limit') ?? '50';
  const before = search.get('before') ?? undefined;
  const page = Number(search.get('page') ?? '1') || 1;
  const api = `/api/calls${qs([...FILTERS.map((k): [string, string] => [k, filter[k]]), ['limit', limit], ['before', before]])}`;
  const { data, error } = useData(api, (signal) => getJson<{ calls: CallRecord[] }>(api, signal), refreshMs(search.get('refresh')));
  const calls = data?.calls ?? [];
  const state = data ? (calls.length ? 'ready' : 'empty') : error ? 'error' : 'loading';
  const here = (extra: Array<[string, string | undefined]>) =>
    `/calls${qs([...FILTERS.map((k): [string, string] => [k, filter[k]]), ['limit', limit === '50' ? '' : limit], ...extra])}`;

  return (
    <main id="main" data-page="calls">
      <h1 tabIndex={-1}>Calls</h1>
      <CallsFilterForm key={search.toString()} filter={filter} limit={limit} scoped={scoped} onSearch={(params) => route(`/calls${qs(params)}`)} />
      <section aria-labelledby="calls-title" data-state={state} data-panel="calls">
        <h2 id="calls-title" class="visually-hidden">
          Matching calls
        </h2>
        {error && <ErrorNote error={error} />}
        {state === 'loading' && <p class="muted">Loading…</p>}
        {state === 'empty' && <p class="muted">No calls match{before ? ' before this page' : ''}.</p>}
        {calls.length > 0 && (
          <>
            <p class="muted" aria-live="polite">
              Page {page}: {calls.length} call{calls.length === 1 ? '' : 's'}, newest first. Times in UTC.
            </p>
            <div class="table-scroll">
              <table class="calls">
                <caption class="visually-hidden">Tool calls, newest first</caption>
                <thead>
                  <tr>
                    {['Time', 'Tenant', 'Agent', 'Tool', 'Intent', 'Outcome', 'Error', 'Duration', 'Upstream calls', 'Retries', 'Trace'].map((h) => (
                      <th scope="col" key={h}>
                        {h}
                      </th>
                    ))}
                  </tr>
                </thead>
                <tbody>
                  {calls.map((c) => (
                    <tr
                      key={c.call_id}
                      data-call={c.call_id}
                      onClick={(e) => (e.target as HTMLElement).closest('a') === null && route(`/traces/${c.trace_id}`)}
                    >
                      <td>{formatTime(c.ts)}</td>
                      <td>
                        <a href={here([['tenant', c.tenant_id]])}>{c.tenant_id}</a>
                      </td>
                      <td>{c.agent_id}</td>
                      <td>{c.tool}</td>
                      {/* Caller text, masked at the source; rendered as text (never markup). */}
                      <td class="intent">{c.intent || '–'}</td>
                      <td>
                        <span class={`outcome ${c.outcome}`}>{c.outcome}</span>
                      </td>
                      <td>{[c.error_class, c.error_code].filter(Boolean).join(' ') || '–'}</td>
                      <td class="num">{formatValue(c.duration_ms, 'ms')}</td>
                      <td class="num">{c.upstream_calls}</td>
                      <td class="num">{c.upstream_retries}</td>
                      <td>
                        <a href={`/traces/${c.trace_id}`} aria-label={`Open trace ${c.trace_id} (${c.tool}, ${formatTime(c.ts)})`}>
                          {c.trace_id.slice(0, 12)}…
                        </a>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </>
        )}
        <nav class="pager" aria-label="Pages">
          {before && <a href={here([])}>Newest</a>}
          {calls.length === Number(limit) && (
            <a
              href={here([
                ['before', cursorOf(calls[calls.length - 1]!)],
                ['page', String(page + 1)],
              ])}
              rel="next"
            >
              Older calls
            </a>
          )}
        </nav>
      </section>
    </main>
  );
}

type Filter = Record<(typeof FILTERS)[number], string>;

interface FormProps {
  filter: Filter;
  limit: string;
  scoped: string | undefined;
  onSearch: (params: Array<[string, string]>) => void;
}

/** The filters as a form: a draft until Search, then the URL (keyed by it, so back/forward resets the draft). */
function CallsFilterForm({ filter, limit, scoped, onSearch }: FormProps) {
  const [draft, setDraft] = useState({ ...filter, tenant: scoped ?? filter.tenant, since: filter.since || '1h', limit });
  const set = (k: keyof typeof draft) => (e: Event) => setDraft({ ...draft, [k]: (e.currentTarget as HTMLInputElement).value });
  const submit = (e: Event) => {
    e.preventDefault();
    const params: Array<[string, string]> = [];
    for (const k of [...FILTERS, 'limit'] as const) {
      const v = draft[k].trim();
      if (v && !(k === 'limit' && v === '50')) params.push([k, v]);
    }
    onSearch(params);
  };
  return (
    <form class="toolbar filters" aria-label="Filter calls" onSubmit={submit}>
      <Field label="Tool">{(id) => <input id={id} name="tool" value={draft.tool} onInput={set('tool')} placeholder="crm.search_contacts" />}</Field>
      <Field label="Tenant">{(id) => <input id={id} name="tenant" value={draft.tenant} onInput={set('tenant')} readOnly={scoped !== undefined} />}</Field>
      <Field label="Agent">{(id) => <input id={id} name="agent" value={draft.agent} onInput={set('agent')} />}</Field>
      <Field label="Intent">{(id) => <input id={id} name="intent" type="search" value={draft.intent} onInput={set('intent')} placeholder="duplicate charge" maxLength={300} />}</Field>
      <Field label="Outcome">
        {(id) => (
          <select id={id} name="outcome" value={draft.outcome} onChange={set('outcome')}>
            <option value="">Any</option>
            {OUTCOMES.map((o) => (
              <option key={o} value={o}>
                {o}
              </option>
            ))}
          </select>
        )}
      </Field>
      <Field label="Since">
        {(id) => (
          <select id={id} name="since" value={draft.since} onChange={set('since')}>
            {[...new Set([...SINCE, draft.since])].map((s) => (
              <option key={s} value={s}>
                last {s}
              </option>
            ))}
          </select>
        )}
      </Field>
      <Field label="Page size">
        {(id) => (
          <select id={id} name="limit" value={draft.limit} onChange={set('limit')}>
            {PAGE_SIZES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        )}
      </Field>
      <button type="submit">Search</button>
    </form>
  );
}
