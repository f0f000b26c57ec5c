import { currentCall, type CallContext } from '../context/index.js';

export const DEFAULT_BUDGET_MS = 20_000;
export const DEFAULT_RESERVE_MS = 250;

/** A call's time budget, fixed at call entry; every upstream timeout derives from it. */
export class Deadline {
  constructor(
    readonly budgetMs: number = DEFAULT_BUDGET_MS,
    readonly startedAt: number = Date.now(),
  ) {}

  static of(ctx: Pick<CallContext, 'startedAt' | 'budgetMs'>): Deadline {
    return new Deadline(ctx.budgetMs, ctx.startedAt);
  }

  /** The deadline of the call on this async path, if any. */
  static current(): Deadline | undefined {
    const ctx = currentCall();
    return ctx ? Deadline.of(ctx) : undefined;
  }

  elapsedMs(): number {
    return Date.now() - this.startedAt;
  }

  remainingMs(): number {
    return Math.max(0, this.startedAt + this.budgetMs - Date.now());
  }

  expired(): boolean {
    return this.remainingMs() <= 0;
  }

  /** Timeout for one upstream step, keeping `reserveMs` to answer the agent. 0 = no time left. */
  timeoutFor(reserveMs: number = DEFAULT_RESERVE_MS): number {
    return Math.max(0, this.remainingMs() - reserveMs);
  }
}
