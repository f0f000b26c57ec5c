/**
 * Lost records are counted, logged and reported: `shipper_drop` pipeline
 * events go to the collector's /v1/events (into `pipeline_events`, where the
 * shipper-drops alert reads them). Counts accumulate until a send starts; the
 * lines being sent are frozen, so a retry is byte-identical and the
 * collector's dedup token makes a re-sent report count once. With a spool
 * directory the unsent counts survive a restart (`drops.json`).
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { errorFields, type Logger } from './logger.js';
import type { BatchTransport } from './transport.js';

/** `refusals_full`: the refusal class (records of requests the HTTP edge refused) overflowed its own budget. */
export type DropReason = 'spool_full' | 'queue_full' | 'rejected' | 'refusals_full';
export type DropEvent = 'shipper_drop' | 'span_drop';

export interface DropReporterOptions {
  transport: BatchTransport;
  service: string;
  instance: string;
  /** Directory to keep unsent counts in across restarts (the spool's). */
  stateDir?: string;
  /** The event name reported: `shipper_drop` (records, read by the shipper-drops alert) or `span_drop`. */
  event?: DropEvent;
  logger?: Logger;
}

export interface DropReporter {
  report(count: number, reason: DropReason): void;
  /** True while some count is not yet acknowledged by the collector. */
  readonly pending: boolean;
  /** 'ok' when sent (or refused for good), else the Retry-After to honour (ms, maybe 0). */
  send(): Promise<'ok' | number>;
  /** Records whose drop the collector has acknowledged. */
  readonly reported: number;
}

interface State {
  frozen: string[];
  open: Partial<Record<DropReason, number>>;
}

export function createDropReporter(opts: DropReporterOptions): DropReporter {
  const statePath = opts.stateDir ? join(opts.stateDir, 'drops.json') : undefined;
  const state: State = load(statePath, opts.logger);
  const event = opts.event ?? 'shipper_drop';
  const what = event === 'span_drop' ? 'spans' : 'audit records';
  let reported = 0;
  let saveFailed = false;

  function save(): void {
    if (!statePath) return;
    try {
      writeFileSync(`${statePath}.tmp`, JSON.stringify(state));
      renameSync(`${statePath}.tmp`, statePath);
    } catch (err) {
      // The counts stay in memory; only a restart would lose them. Said once, not per drop.
      if (!saveFailed) opts.logger?.warn({ ...errorFields(err), event: 'drops_state_unsaved' }, 'drop counts could not be saved; they are kept in memory');
      saveFailed = true;
    }
  }

  return {
    report(count, reason) {
      if (count <= 0) return;
      state.open[reason] = (state.open[reason] ?? 0) + count;
      opts.logger?.warn({ event, reason, count }, `${what} dropped`);
      save();
    },
    get pending() {
      return state.frozen.length > 0 || Object.keys(state.open).length > 0;
    },
    async send() {
      if (state.frozen.length === 0) {
        const ts = new Date().toISOString();
        for (const [reason, count] of Object.entries(state.open)) {
          state.frozen.push(JSON.stringify({ ts, service: opts.service, instance: opts.instance, event, reason, count }));
        }
        state.open = {};
        save();
      }
      if (state.frozen.length === 0) return 'ok';
      const result = await opts.transport.send(state.frozen);
      if (!result.ok && result.retryable) return result.retryAfterMs ?? 0;
      if (result.ok) reported += state.frozen.reduce((n, line) => n + (JSON.parse(line) as { count: number }).count, 0);
      else opts.logger?.error({ event, status: result.status }, 'collector refused the drop report');
      state.frozen = [];
      save();
      return 'ok';
    },
    get reported() {
      return reported;
    },
  };
}

function load(path: string | undefined, logger: Logger | undefined): State {
  if (path) {
    try {
      const s = JSON.parse(readFileSync(path, 'utf8')) as State;
      if (Array.isArray(s.frozen) && s.open && typeof s.open === 'object') return s;
      logger?.warn({ event: 'drops_state_unreadable' }, 'drops.json has an unexpected shape; unsent drop counts from before the restart are lost');
    } catch (err) {
      // No file is the first start; anything else means counts from before the restart are lost: say so.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') logger?.warn({ ...errorFields(err), event: 'drops_state_unreadable' }, 'drops.json could not be read; unsent drop counts from before the restart are lost');
    }
  }
  return { frozen: [], open: {} };
}
