import { useEffect, useState } from 'preact/hooks';
import { getJson, qs, type CallRecord, type SpanView, type TraceView } from '../api.js';
import { ErrorNote } from '../components/ErrorNote.js';
import { formatTime, formatValue } from '../format.js';
import { useData } from '../hooks.js';

/** Spans come in OTLP batches (the SDK's BatchSpanProcessor), records through the shipper: either may lag. */
const POLL_MS = 2_000;
const WAIT_FOR_SPANS_MS = 60_000;

interface Row {
  span: SpanView;
  depth: number;
  startMs: number;
}

/** Spans in tree order (each parent before its children, siblings by start), with their depth. */
export function waterfall(spans: SpanView[]): Row[] {
  const ids = new Set(spans.map((s) => s.spanId));
  const children = new Map<string, SpanView[]>();
  const roots: SpanView[] = [];
  for (const s of spans) {
    if (s.parentSpanId && ids.has(s.parentSpanId)) {
      const list = children.get(s.parentSpanId) ?? [];
      list.push(s);
      children.set(s.parentSpanId, list);
    } else roots.push(s);
  }
  const byStart = (a: SpanView, b: SpanView) => Date.parse(a.startTime) - Date.parse(b.startTime);
  const rows: Row[] = [];
  const visit = (s: SpanView, depth: number) => {
    rows.push({ span: s, depth, startMs: Date.parse(s.startTime) });
    for (const c of (children.get(s.spanId) ?? []).sort(byStart)) visit(c, depth + 1);
  };
  for (const r of roots.sort(byStart)) visit(r, 0);
  return rows;
}

/** What is missing while the trace is still being written, in words; undefined when it looks whole. */
function arriving(trace: TraceView): string | undefined {
  const ids = new Set(trace.spans.map((s) => s.spanId));
  if (trace.calls.length > 0 && trace.spans.length === 0)
    return 'The call record is here; its spans are still arriving (they are exported in batches, usually within seconds).';
  const missing = trace.calls.filter((c) => c.span_id && !ids.has(c.span_id));
  if (missing.length > 0)
    return `${missing.length} call${missing.length === 1 ? "'s" : "s'"} server span${missing.length === 1 ? ' is' : 's are'} still arriving.`;
  if (trace.spans.length > 0 && trace.calls.length === 0) return 'The spans are here; the call record is still arriving.';
  return undefined;
}

const kindLabel: Record<string, string> = { Server: 'server', Client: 'client', Internal: 'internal', Producer: 'producer', Consumer: 'consumer' };

/** `/traces/:traceId`: the spans as a waterfall (agent → MCP server → upstream), the call records beside it. */
export function TracePage({ traceId }: { traceId: string }) {
  const [openedAt] = useState(() => Date.now());
  const [now, setNow] = useState(openedAt);
  const url = `/api/traces/${encodeURIComponent(traceId)}`;
  const [poll, setPoll] = useState(POLL_MS);
  const { data, error } = useData(url, (signal) => getJson<TraceView>(url, signal), poll);
  const waiting = data ? (arriving(data) ?? (data.spans.length === 0 && data.calls.length === 0 ? 'Nothing with this trace id yet.' : undefined)) : undefined;
  const stillWaiting = waiting !== undefined && now - openedAt < WAIT_FOR_SPANS_MS;
  useEffect(() => {
    setNow(Date.now());
    setPoll(stillWaiting ? POLL_MS : 0);
  }, [data, stillWaiting]);

  const state = error ? 'error' : !data ? 'loading' : stillWaiting ? 'arriving' : data.spans.length || data.calls.length ? 'ready' : 'empty';
  const rows = data ? waterfall(data.spans) : [];
  const t0 = rows.length ? Math.min(...rows.map((r) => r.startMs)) : 0;
  const t1 = rows.length ? Math.max(...rows.map((r) => r.startMs + r.span.durationMs)) : 1;
  const total = Math.max(t1 - t0, 0.001);

  return (
    <main id="main" data-page="trace">
      <h1 tabIndex={-1}>
        Trace <code>{traceId}</code>
      </h1>
      <section data-state={state} data-panel="trace" aria-labelledby="spans-title" aria-busy={state === 'loading'}>
        {error && <ErrorNote error={error} />}
        {state === 'loading' && <p class="muted">Loading…</p>}
        {waiting && (
          <p class={stillWaiting ? 'notice' : 'muted'} role="status">
            {stillWaiting
              ? `${waiting} Checking again every ${POLL_MS / 1000} s.`
              : `${waiting === 'Nothing with this trace id yet.' ? 'No trace with this id (or none of it is yours).' : waiting} Waited ${WAIT_FOR_SPANS_MS / 1000} s; reload to look again.`}
          </p>
        )}
        <div class="trace-layout">
          <div class="waterfall">
            <h2 id="spans-title">Spans {rows.length ? <span class="count">{rows.length}</span> : null}</h2>
            {rows.length > 0 && (
              <table class="spans">
                <caption class="visually-hidden">Spans of the trace in tree order, with start offset and duration</caption>
                <thead>
                  <tr>
                    <th scope="col">Span</th>
                    <th scope="col">Service</th>
                    <th scope="col">Kind</th>
                    <th scope="col" class="num">
                      Start
                    </th>
                    <th scope="col" class="num">
                      Duration
                    </th>
                    <th scope="col" class="bar-col">
                      Timeline
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {rows.map(({ span, depth, startMs }) => (
                    <tr key={span.spanId} data-span-kind={span.kind} class={span.statusCode === 'Error' ? 'span-error' : undefined}>
                      <th scope="row" style={{ paddingLeft: `${0.4 + depth * 1.2}rem` }}>
                        {span.name}
                        {span.statusCode === 'Error' && <span class="badge critical">error</span>}
                      </th>
                      <td>{span.serviceName}</td>
                      <td>{kindLabel[span.kind] ?? span.kind}</td>
                      <td class="num">+{formatValue(startMs - t0, 'ms')}</td>
                      <td class="num">{formatValue(span.durationMs, 'ms')}</td>
                      <td class="bar-col" aria-hidden="true">
                        <div class="bar-track">
                          <div
                            class={`bar ${span.kind.toLowerCase()}`}
                            style={{ left: `${((startMs - t0) / total) * 100}%`, width: `${Math.max((span.durationMs / total) * 100, 0.5)}%` }}
                          />
                        </div>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </div>
          <aside class="records" aria-labelledby="records-title">
            <h2 id="records-title">Call records {data?.calls.length ? <span class="count">{data.calls.length}</span> : null}</h2>
            {data?.calls.map((c) => (
              <CallCard key={c.call_id} call={c} />
            ))}
            {data && data.calls.length === 0 && <p class="muted">No call record for this trace{stillWaiting ? ' yet' : ''}.</p>}
          </aside>
        </div>
      </section>
    </main>
  );
}

const FIELDS: Array<[keyof CallRecord, string, (c: CallRecord) => string]> = [
  ['ts', 'Time (UTC)', (c) => formatTime(c.ts)],
  ['outcome', 'Outcome', (c) => c.outcome],
  ['tool', 'Tool', (c) => `${c.tool}${c.tool_version ? ` v${c.tool_version}` : ''}`],
  ['agent_id', 'Agent', (c) => c.agent_id],
  ['intent', 'Intent', (c) => c.intent || '–'],
  ['subject', 'Subject', (c) => c.subject || '–'],
  ['auth_method', 'Auth', (c) => `${c.auth_method}${c.scope_required ? `, needs ${c.scope_required}` : ''}`],
  ['error_class', 'Error', (c) => [c.error_class, c.error_code].filter(Boolean).join(' ') || '–'],
  ['duration_ms', 'Duration', (c) => formatValue(c.duration_ms, 'ms')],
  ['budget_ms_used', 'Budget used', (c) => (c.budget_ms_total ? `${formatValue(c.budget_ms_used, 'ms')} of ${formatValue(c.budget_ms_total, 'ms')}` : '–')],
  ['upstream_calls', 'Upstream calls', (c) => `${c.upstream_calls} (${c.upstream_retries} retried)`],
  ['auth_refresh', 'Credential refresh', (c) => (c.auth_refresh_failed ? 'failed' : c.auth_refresh ? 'refreshed' : 'no')],
  ['rate_limited', 'Rate limited', (c) => (c.rate_limited ? `yes (${c.rate_limit_budget})` : 'no')],
  ['call_id', 'Call id', (c) => c.call_id],
];

function CallCard({ call }: { call: CallRecord }) {
  return (
    <article class="call-card" data-call={call.call_id}>
      <h3>
        <a href={`/tenants/${encodeURIComponent(call.tenant_id)}`}>{call.tenant_id}</a> · {call.tool}
      </h3>
      <dl>
        {FIELDS.map(([key, label, show]) => (
          <div key={key as string}>
            <dt>{label}</dt>
            <dd class={key === 'outcome' ? `outcome ${call.outcome}` : undefined}>{show(call)}</dd>
          </div>
        ))}
      </dl>
      <a
        href={`/calls${qs([
          ['tenant', call.tenant_id],
          ['agent', call.agent_id],
          ['since', '1h'],
        ])}`}
      >
        This agent's calls
      </a>
    </article>
  );
}
