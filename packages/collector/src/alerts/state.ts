/**
 * Per-series alert state, as Prometheus and Grafana track it:
 * inactive → pending (condition holds, `for` not yet elapsed) → firing →
 * resolved (condition stopped holding) → dropped after a retention period
 * during which the resolution keeps being re-sent.
 */
import type { Labels } from './labels.js';

export type AlertState = 'pending' | 'firing' | 'resolved';

export interface SeriesState {
  fingerprint: string;
  ruleUid: string;
  labels: Labels;
  annotations: Record<string, string>;
  state: AlertState;
  value: number;
  /** When the condition started holding (pending since). */
  activeAt: Date;
  firedAt?: Date;
  resolvedAt?: Date;
  lastEvaluatedAt: Date;
}

export type Transition = 'pending' | 'firing' | 'resolved' | 'cancelled';

/**
 * One evaluation of one series. `holds` is whether the rule's condition held
 * for it now (a series the query no longer returns does not hold).
 * Returns the next state (undefined: forget the series) and the transition, if any.
 */
export function advance(
  prev: SeriesState | undefined,
  holds: boolean,
  now: Date,
  forMs: number,
  init: Omit<SeriesState, 'state' | 'activeAt' | 'lastEvaluatedAt'>,
): { next?: SeriesState; transition?: Transition } {
  if (holds) {
    const restarting = prev === undefined || prev.state === 'resolved';
    const activeAt = restarting ? now : prev.activeAt;
    const base: SeriesState = { ...init, state: 'pending', activeAt, lastEvaluatedAt: now };
    if (!restarting && prev.state === 'firing') {
      return { next: { ...base, state: 'firing', firedAt: prev.firedAt } };
    }
    if (now.getTime() - activeAt.getTime() >= forMs) {
      return { next: { ...base, state: 'firing', firedAt: now }, transition: 'firing' };
    }
    return { next: base, transition: restarting ? 'pending' : undefined };
  }
  if (prev === undefined) return {};
  if (prev.state === 'pending') return { transition: 'cancelled' };
  if (prev.state === 'firing') {
    return { next: { ...prev, value: init.value, state: 'resolved', resolvedAt: now, lastEvaluatedAt: now }, transition: 'resolved' };
  }
  return { next: { ...prev, lastEvaluatedAt: now } };
}
