/**
 * The audit API as the console reads it. Every request carries the console
 * header: with a session cookie the collector requires it (CSRF defence, see
 * the collector's read-scope.ts); the cookie itself is HttpOnly and travels on
 * its own.
 */

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const HEADERS = { 'x-mcptrail-console': '1', accept: 'application/json' };

async function send<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
  const res = await fetch(path, {
    method,
    credentials: 'same-origin',
    headers: body === undefined ? HEADERS : { ...HEADERS, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal,
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (!res.ok) {
    const message = (json as { error?: string } | undefined)?.error ?? `${res.status} ${res.statusText}`;
    if (res.status === 401) window.dispatchEvent(new CustomEvent('mcptrail:unauthorized'));
    throw new ApiError(res.status, message);
  }
  return json as T;
}

const prefetched = new Map<string, Promise<unknown>>();

/**
 * Starts reads the page will need before the app has rendered (the session and the dashboard
 * definition), so they do not wait for each other; the first getJson of the same path takes
 * the answer.
 */
export function prefetch(paths: string[]): void {
  for (const path of paths) {
    const pending = send('GET', path);
    // A failed early read is dropped: the page asks again (after signing in, say).
    pending.catch(() => prefetched.delete(path));
    prefetched.set(path, pending);
  }
}

export function getJson<T>(path: string, signal?: AbortSignal): Promise<T> {
  const early = prefetched.get(path);
  if (early) {
    prefetched.delete(path);
    return early as Promise<T>;
  }
  return send<T>('GET', path, undefined, signal);
}

export type ReadScope = { operator: true } | { tenant: string };

export interface Session {
  auth: 'open' | 'token';
  signedIn: boolean;
  scope: ReadScope | null;
}

export const getSession = () => getJson<Session>('/api/console/session');

/** The dashboard definition a page path shows, if any. */
export function dashboardOf(path: string): string | undefined {
  if (path === '/') return 'fleet';
  if (path.startsWith('/tenants/')) return 'tenant';
  return undefined;
}
export const signIn = (token: string) => send<Session>('POST', '/api/console/session', { token });
export const signOut = () => send<Session>('DELETE', '/api/console/session');

export interface PanelInfo {
  id: string;
  title: string;
  kind: 'timeseries' | 'table';
  unit: string;
  description: string;
  width: number;
  readable: boolean;
}

export interface VariableInfo {
  name: string;
  label: string;
  multi: boolean;
  includeAll: boolean;
  readable: boolean;
}

export interface DashboardInfo {
  id: string;
  title: string;
  defaultSince: string;
  refresh: string | null;
  variables: VariableInfo[];
  panels: PanelInfo[];
}

export interface PanelData {
  dashboard: string;
  panel: string;
  kind: 'timeseries' | 'table';
  from: string;
  to: string;
  intervalMs: number;
  columns: string[];
  rows: unknown[][];
}

export interface CallRecord {
  ts: string;
  call_id: string;
  trace_id: string;
  span_id: string;
  service: string;
  tool: string;
  tool_version: string;
  tenant_id: string;
  agent_id: string;
  subject: string;
  auth_method: string;
  scope_required: string;
  outcome: string;
  error_class: string;
  error_code: string;
  duration_ms: number;
  upstream_calls: number;
  upstream_retries: number;
  budget_ms_total: number;
  budget_ms_used: number;
  auth_refresh: number;
  auth_refresh_failed: number;
  rate_limited: boolean | number;
  rate_limit_budget: string;
  idempotent_replay: boolean | number;
  /** The agent's stated intent, masked at the source ('' when none; absent from a collector older than migration 8). */
  intent?: string;
  [field: string]: unknown;
}

export interface SpanView {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: string;
  serviceName: string;
  startTime: string;
  durationMs: number;
  statusCode: string;
  statusMessage: string;
  attributes: Record<string, string>;
  events: Array<{ name: string; time: string; attributes: Record<string, string> }>;
}

export interface TraceView {
  traceId: string;
  spans: SpanView[];
  calls: CallRecord[];
}

export interface AlertView {
  ruleUid: string;
  title: string;
  state: 'pending' | 'firing' | 'resolved';
  fingerprint: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  value: number;
  activeAt: string;
  firedAt?: string;
  resolvedAt?: string;
}

export interface AlertsSnapshot {
  evaluatedAt: string | null;
  rules: Array<{ uid: string; title: string; severity: string; health: string; lastEvaluatedAt: string | null; lastError?: string }>;
  alerts: AlertView[];
}

/** A query string from pairs, repeated keys kept, empty values dropped. */
export function qs(params: Array<[string, string | undefined]>): string {
  const search = new URLSearchParams();
  for (const [k, v] of params) if (v !== undefined && v !== '') search.append(k, v);
  const text = search.toString();
  return text ? `?${text}` : '';
}
