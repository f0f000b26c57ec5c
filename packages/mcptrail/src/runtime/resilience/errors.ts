/** The breaker for this tenant × upstream is open: the call was not sent. Outcome `upstream_unavailable`. */
export class UpstreamUnavailableError extends Error {
  override readonly name = 'UpstreamUnavailableError';
  readonly code = 'upstream_unavailable';
  readonly outcome = 'upstream_unavailable';

  constructor(
    readonly upstream: string,
    readonly tenantId: string,
    /** A hint for the agent: when the breaker next lets a probe through. */
    readonly retryAfterSeconds: number,
  ) {
    super(`${upstream} is unavailable for this tenant (circuit open); retry after ${retryAfterSeconds} s`);
  }
}
