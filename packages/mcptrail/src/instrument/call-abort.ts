/**
 * The call's AbortSignal: aborted when the agent cancels (the SDK's request
 * signal) and at the deadline (reason: the CallDeadlineError). Made only
 * when something asks for it — the handler reading `extra.signal`, the
 * upstream client reading `currentCall().signal` — because an AbortController
 * and a listener on the SDK's signal cost a call ~10 µs (most of the
 * pipeline's own time; bench/overhead.js), and most handlers never look.
 */
export class CallAbort {
  private controller: AbortController | undefined;
  private fired = false;
  private reason: unknown;

  constructor(private readonly source: AbortSignal | undefined) {}

  get signal(): AbortSignal {
    if (!this.controller) {
      const controller = (this.controller = new AbortController());
      const source = this.source;
      if (this.fired) controller.abort(this.reason);
      else if (source?.aborted) controller.abort(source.reason);
      // Not removed: the SDK makes one signal per request, dropped with it.
      else source?.addEventListener('abort', () => controller.abort(source.reason), { once: true });
    }
    return this.controller.signal;
  }

  /** The deadline passed: the signal fires if it exists, and starts aborted if asked for later. */
  abort(reason: unknown): void {
    if (this.fired) return;
    this.fired = true;
    this.reason = reason;
    this.controller?.abort(reason);
  }
}
