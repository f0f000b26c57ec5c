/**
 * Where the built-in evaluator sends alerts.
 *
 * - Alertmanager (API v2): every firing alert is re-sent periodically with a
 *   rolling endsAt, as Prometheus does, so Alertmanager never times it out;
 *   resolutions are sent with endsAt = resolvedAt. Alertmanager deduplicates by
 *   label set, so re-sending never pages twice.
 * - Webhook (Alertmanager-webhook-shaped JSON): nothing deduplicates behind
 *   it, so it only hears transitions (fired, resolved), once each.
 */
import type { Labels } from './labels.js';

/** One alert as Alertmanager's API v2 (`POST /api/v2/alerts`) takes it. */
export interface PostableAlert {
  labels: Labels;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  generatorURL: string;
}

export interface OutgoingAlert extends PostableAlert {
  status: 'firing' | 'resolved';
  fingerprint: string;
  ruleUid: string;
}

export interface Notifier {
  readonly name: string;
  /** `resend`: all firing/recently resolved alerts every resend period; `transitions`: each change once. */
  readonly mode: 'resend' | 'transitions';
  send(alerts: readonly OutgoingAlert[]): Promise<void>;
}

export class NotifierError extends Error {
  override readonly name = 'NotifierError';
  constructor(readonly notifier: string, readonly status: number | undefined, message: string) {
    super(message);
  }
}

export interface HttpNotifierOptions {
  url: string;
  /** Extra headers (e.g. authorization). */
  headers?: Record<string, string>;
  timeoutMs?: number;
}

async function postJSON(name: string, url: string, body: unknown, opts: HttpNotifierOptions): Promise<void> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...opts.headers },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(opts.timeoutMs ?? 10_000),
    });
  } catch (err) {
    throw new NotifierError(name, undefined, `cannot reach ${name}: ${(err as Error).message}`);
  }
  await res.arrayBuffer();
  if (!res.ok) throw new NotifierError(name, res.status, `${name} answered ${res.status}`);
}

/** Alertmanager API v2. `url` is Alertmanager's base URL (e.g. http://alertmanager:9093). */
export function alertmanagerNotifier(opts: HttpNotifierOptions): Notifier {
  const endpoint = opts.url.replace(/\/+$/, '') + '/api/v2/alerts';
  return {
    name: 'alertmanager',
    mode: 'resend',
    async send(alerts) {
      if (alerts.length === 0) return;
      const body: PostableAlert[] = alerts.map(({ labels, annotations, startsAt, endsAt, generatorURL }) => ({
        labels,
        annotations,
        startsAt,
        endsAt,
        generatorURL,
      }));
      await postJSON('alertmanager', endpoint, body, opts);
    },
  };
}

/** Alertmanager's webhook payload (version 4), one message per rule and status. */
export interface WebhookMessage {
  version: '4';
  groupKey: string;
  truncatedAlerts: number;
  status: 'firing' | 'resolved';
  receiver: string;
  groupLabels: Record<string, string>;
  commonLabels: Record<string, string>;
  commonAnnotations: Record<string, string>;
  externalURL: string;
  alerts: Array<PostableAlert & { status: 'firing' | 'resolved'; fingerprint: string }>;
}

export function webhookMessages(alerts: readonly OutgoingAlert[], receiver: string, externalURL: string): WebhookMessage[] {
  const groups = new Map<string, OutgoingAlert[]>();
  for (const a of alerts) {
    const key = `${a.ruleUid}\u0000${a.status}`;
    groups.set(key, [...(groups.get(key) ?? []), a]);
  }
  return [...groups.values()].map((group) => {
    const { ruleUid, status } = group[0];
    const alertname = group[0].labels.alertname ?? ruleUid;
    return {
      version: '4',
      groupKey: `{}:{alertname=${JSON.stringify(alertname)}}`,
      truncatedAlerts: 0,
      status,
      receiver,
      groupLabels: { alertname },
      commonLabels: common(group.map((a) => a.labels)),
      commonAnnotations: common(group.map((a) => a.annotations)),
      externalURL,
      alerts: group.map(({ status: s, labels, annotations, startsAt, endsAt, generatorURL, fingerprint }) => ({
        status: s,
        labels,
        annotations,
        startsAt,
        endsAt,
        generatorURL,
        fingerprint,
      })),
    };
  });
}

function common(sets: ReadonlyArray<Readonly<Record<string, string>>>): Record<string, string> {
  const [first, ...rest] = sets;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(first ?? {})) if (rest.every((s) => s[k] === v)) out[k] = v;
  return out;
}

export function webhookNotifier(opts: HttpNotifierOptions & { receiver?: string; externalURL?: string }): Notifier {
  return {
    name: 'webhook',
    mode: 'transitions',
    async send(alerts) {
      for (const message of webhookMessages(alerts, opts.receiver ?? 'mcptrail', opts.externalURL ?? '')) {
        await postJSON('webhook', opts.url, message, opts);
      }
    },
  };
}
