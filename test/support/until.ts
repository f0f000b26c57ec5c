/** Polls `fn` until it returns a value (a state to reach, not a time to sleep); fails naming `what` after `timeoutMs`. */
export async function until<T>(what: string, fn: () => Promise<T | undefined>, opts: { timeoutMs?: number; context?: () => string } = {}): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 20_000);
  for (;;) {
    // A failing probe (a server not listening yet) counts as "not yet".
    const value = await fn().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${opts.context ? `\n${opts.context()}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
