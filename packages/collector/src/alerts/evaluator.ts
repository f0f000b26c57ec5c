/**
 * The built-in evaluator: runs the same rules Grafana is provisioned with,
 * on a schedule, against the store, for deployments without Grafana (the
 * embedded default). The SQL goes through the same macro expansion as the
 * Grafana ClickHouse plugin's, over the rule's window.
 */
import { expandMacros } from './macros.js';
import { ALERT_RULES, conditionHolds, RULE_GROUP, type AlertRule } from './rules.js';
import { fingerprint, seriesLabels, type Labels } from './labels.js';
import { advance, type SeriesState } from './state.js';
import { renderTemplate } from './template.js';
import { ALERT_TABLES } from './tables.js';
import type { Notifier, OutgoingAlert } from './notifiers.js';

/** What the evaluator needs from a store: read, and optionally append alert events. */
export interface AlertStore {
  query<T = Record<string, unknown>>(sql: string, params?: Record<string, unknown>): Promise<T[]>;
  insertNDJSON?(table: string, body: string): Promise<unknown>;
}

export interface EvaluatorOptions {
  store: AlertStore;
  rules?: readonly AlertRule[];
  notifiers?: readonly Notifier[];
  /** Evaluation interval (default: the rule group's, 60 s). */
  intervalMs?: number;
  /** How often firing alerts are re-sent to Alertmanager (Prometheus default 1m). */
  resendDelayMs?: number;
  /** How long resolved alerts are kept and re-sent (Prometheus keeps them 15m). */
  resolvedRetentionMs?: number;
  /** Base of generatorURL (where a person sees the alert): e.g. the collector's /api/alerts. */
  generatorBaseURL?: string;
  /** Called on query or notification errors; receives only log-safe fields. */
  onError?: (event: { where: string; ruleUid?: string; notifier?: string; errClass: string; code?: string }) => void;
}

export interface RuleHealth {
  uid: string;
  title: string;
  severity: string;
  health: 'ok' | 'error' | 'unknown';
  lastEvaluatedAt: string | null;
  lastError?: string;
}

export interface AlertView {
  ruleUid: string;
  title: string;
  state: SeriesState['state'];
  fingerprint: string;
  labels: Labels;
  annotations: Record<string, string>;
  value: number;
  activeAt: string;
  firedAt?: string;
  resolvedAt?: string;
}

export interface AlertsSnapshot {
  evaluatedAt: string | null;
  rules: RuleHealth[];
  alerts: AlertView[];
}

interface Tracked extends SeriesState {
  /** Per notifier: when it was last sent and as what. */
  sent: Map<string, { at: Date; status: 'firing' | 'resolved' }>;
}

export class AlertEvaluator {
  readonly rules: readonly AlertRule[];
  private readonly series = new Map<string, Tracked>();
  private readonly health = new Map<string, RuleHealth>();
  private readonly notifiers: readonly Notifier[];
  private readonly intervalMs: number;
  private readonly resendDelayMs: number;
  private readonly resolvedRetentionMs: number;
  private lastEvaluatedAt: Date | null = null;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(private readonly opts: EvaluatorOptions) {
    this.rules = opts.rules ?? ALERT_RULES;
    this.notifiers = opts.notifiers ?? [];
    this.intervalMs = opts.intervalMs ?? RULE_GROUP.intervalSeconds * 1000;
    this.resendDelayMs = opts.resendDelayMs ?? 60_000;
    this.resolvedRetentionMs = opts.resolvedRetentionMs ?? 15 * 60_000;
    for (const r of this.rules) {
      this.health.set(r.uid, { uid: r.uid, title: r.title, severity: r.severity, health: 'unknown', lastEvaluatedAt: null });
    }
  }

  /** Evaluates on the interval until stop(); a slow run is never overlapped by the next. */
  start(): void {
    if (this.timer) return;
    const tick = () => {
      if (this.running) return;
      this.running = this.evaluate(new Date()).finally(() => (this.running = undefined));
    };
    this.timer = setInterval(tick, this.intervalMs);
    this.timer.unref();
    tick();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** One evaluation of every rule at `now`, then notifications. */
  async evaluate(now: Date): Promise<void> {
    const transitions: Tracked[] = [];
    for (const rule of this.rules) transitions.push(...(await this.evaluateRule(rule, now)));
    this.lastEvaluatedAt = now;
    await this.recordEvents(transitions, now);
    await this.notify(now);
    this.forgetExpired(now);
  }

  /** The current state, for `GET /api/alerts` and `mcptrail alerts`. */
  snapshot(): AlertsSnapshot {
    const alerts = [...this.series.values()].map(
      (s): AlertView => ({
        ruleUid: s.ruleUid,
        title: s.labels.alertname ?? s.ruleUid,
        state: s.state,
        fingerprint: s.fingerprint,
        labels: s.labels,
        annotations: s.annotations,
        value: s.value,
        activeAt: s.activeAt.toISOString(),
        firedAt: s.firedAt?.toISOString(),
        resolvedAt: s.resolvedAt?.toISOString(),
      }),
    );
    const order = { firing: 0, pending: 1, resolved: 2 } as const;
    alerts.sort((a, b) => order[a.state] - order[b.state] || a.ruleUid.localeCompare(b.ruleUid) || a.fingerprint.localeCompare(b.fingerprint));
    return { evaluatedAt: this.lastEvaluatedAt?.toISOString() ?? null, rules: [...this.health.values()], alerts };
  }

  private async evaluateRule(rule: AlertRule, now: Date): Promise<Tracked[]> {
    const health = this.health.get(rule.uid)!;
    const from = new Date(now.getTime() - rule.window.from * 1000);
    const to = new Date(now.getTime() - rule.window.to * 1000);
    let rows: Record<string, unknown>[];
    try {
      rows = await this.opts.store.query(expandMacros(rule.sql, { from, to, intervalMs: this.intervalMs }));
    } catch (err) {
      // Grafana's execErrState=Error: the series keep their state until the query works again.
      Object.assign(health, { health: 'error', lastEvaluatedAt: now.toISOString(), lastError: errorCode(err) });
      this.opts.onError?.({ where: 'query', ruleUid: rule.uid, errClass: (err as Error).name, code: errorCode(err) });
      return [];
    }
    Object.assign(health, { health: 'ok', lastEvaluatedAt: now.toISOString(), lastError: undefined });

    const seen = new Set<string>();
    const changed: Tracked[] = [];
    const step = (key: string, holds: boolean, labels: Labels, value: number) => {
      const prev = this.series.get(key);
      const annotations = {
        summary: renderTemplate(rule.summary, { labels, value }),
        description: rule.description,
      };
      const { next, transition } = advance(prev, holds, now, rule.forSeconds * 1000, {
        fingerprint: key,
        ruleUid: rule.uid,
        labels,
        // A series that stopped matching keeps the annotations and value it fired with.
        annotations: holds || !prev ? annotations : prev.annotations,
        value: Number.isFinite(value) ? value : (prev?.value ?? NaN),
      });
      if (!next) {
        this.series.delete(key);
        return;
      }
      const tracked: Tracked = { ...next, sent: prev?.sent ?? new Map() };
      this.series.set(key, tracked);
      if (transition === 'firing' || transition === 'resolved') changed.push(tracked);
    };

    for (const row of rows) {
      const queryLabels: Record<string, string> = {};
      for (const col of rule.labelColumns) queryLabels[col] = String(row[col] ?? '');
      const labels = seriesLabels(rule, queryLabels);
      const key = fingerprint(labels);
      seen.add(key);
      const value = Number(row.value);
      step(key, conditionHolds(rule, value), labels, value);
    }
    // Series the query no longer returns: no data is OK (noDataState: OK).
    for (const [key, s] of this.series) {
      if (s.ruleUid === rule.uid && !seen.has(key)) step(key, false, s.labels, NaN);
    }
    return changed;
  }

  private outgoing(s: Tracked, now: Date): OutgoingAlert {
    // Prometheus: a firing alert is valid for 4 × max(eval interval, resend delay) past its last send.
    const validUntil = new Date(now.getTime() + 4 * Math.max(this.intervalMs, this.resendDelayMs));
    const base = this.opts.generatorBaseURL ?? 'http://127.0.0.1:4318/api/alerts';
    return {
      status: s.state === 'resolved' ? 'resolved' : 'firing',
      fingerprint: s.fingerprint,
      ruleUid: s.ruleUid,
      labels: s.labels,
      annotations: s.annotations,
      startsAt: (s.firedAt ?? s.activeAt).toISOString(),
      endsAt: (s.state === 'resolved' ? s.resolvedAt! : validUntil).toISOString(),
      generatorURL: `${base}?rule=${encodeURIComponent(s.ruleUid)}`,
    };
  }

  private async notify(now: Date): Promise<void> {
    for (const notifier of this.notifiers) {
      const due = [...this.series.values()].filter((s) => this.isDue(s, notifier, now));
      if (due.length === 0) continue;
      try {
        await notifier.send(due.map((s) => this.outgoing(s, now)));
        for (const s of due) s.sent.set(notifier.name, { at: now, status: s.state === 'resolved' ? 'resolved' : 'firing' });
      } catch (err) {
        // Not marked as sent: the next evaluation tries again.
        this.opts.onError?.({ where: 'notify', notifier: notifier.name, errClass: (err as Error).name, code: errorCode(err) });
      }
    }
  }

  /** Prometheus' needsSending, per notifier; transition-only notifiers hear each status once. */
  private isDue(s: Tracked, notifier: Notifier, now: Date): boolean {
    if (s.state === 'pending') return false;
    const status = s.state === 'resolved' ? 'resolved' : 'firing';
    const last = s.sent.get(notifier.name);
    if (notifier.mode === 'transitions') {
      if (status === 'resolved' && last === undefined) return false; // it never heard the alert fire
      return last?.status !== status || (status === 'firing' && last.at < s.firedAt!);
    }
    if (last === undefined) return true;
    if (status === 'resolved' && last.status === 'firing') return true;
    if (status === 'firing' && last.at < s.firedAt!) return true;
    return now.getTime() - last.at.getTime() >= this.resendDelayMs;
  }

  private forgetExpired(now: Date): void {
    for (const [key, s] of this.series) {
      if (s.state === 'resolved' && now.getTime() - s.resolvedAt!.getTime() >= this.resolvedRetentionMs) this.series.delete(key);
    }
  }

  private async recordEvents(changed: readonly Tracked[], now: Date): Promise<void> {
    const insert = this.opts.store.insertNDJSON?.bind(this.opts.store);
    if (!insert || changed.length === 0) return;
    const rows = changed.map((s) =>
      JSON.stringify({
        ts: now.toISOString(),
        rule_uid: s.ruleUid,
        alertname: s.labels.alertname ?? '',
        state: s.state === 'resolved' ? 'resolved' : 'firing',
        severity: s.labels.severity ?? '',
        tenant_id: s.labels.tenant_id ?? '',
        fingerprint: s.fingerprint,
        labels: s.labels,
        value: Number.isFinite(s.value) ? s.value : 0,
        starts_at: (s.firedAt ?? s.activeAt).toISOString(),
        summary: s.annotations.summary ?? '',
      }),
    );
    try {
      await insert(ALERT_TABLES.alertEvents, rows.join('\n') + '\n');
    } catch (err) {
      this.opts.onError?.({ where: 'alert_events', errClass: (err as Error).name, code: errorCode(err) });
    }
  }
}

function errorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' ? code : undefined;
}
