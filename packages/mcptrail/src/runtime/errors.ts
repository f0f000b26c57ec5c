/**
 * Upstream failures. Messages name the upstream, method and status only: no
 * URL (paths and queries carry identifiers and secrets), body or headers.
 */
export class UpstreamError extends Error {
  override readonly name: string = 'UpstreamError';
  readonly code: string;

  constructor(
    readonly upstream: string,
    readonly method: string,
    readonly status: number,
    /** Parsed response body, for the tool to inspect; never logged. */
    readonly body?: unknown,
    /** The response's Retry-After header, read by the retry policy. */
    readonly retryAfter?: string,
  ) {
    super(`${upstream} ${method} answered HTTP ${status}`);
    this.code = `upstream_http_${status}`;
  }
}

export class UpstreamTimeoutError extends Error {
  override readonly name: string = 'UpstreamTimeoutError';
  readonly code = 'upstream_timeout';

  constructor(
    readonly upstream: string,
    readonly method: string,
    readonly timeoutMs: number,
    /** True when the call's deadline, not a per-request default, ran out. */
    readonly budgetExhausted: boolean,
  ) {
    super(`${upstream} ${method} timed out after ${timeoutMs} ms${budgetExhausted ? ' (call budget exhausted)' : ''}`);
  }
}

/** The upstream's response body passed the client's `maxResponseBytes`: it was not read further. */
export class UpstreamResponseTooLargeError extends Error {
  override readonly name: string = 'UpstreamResponseTooLargeError';
  readonly code = 'upstream_response_too_large';

  constructor(
    readonly upstream: string,
    readonly method: string,
    readonly limitBytes: number,
  ) {
    super(`${upstream} ${method} answered more than ${limitBytes} bytes (the client's maxResponseBytes); the response was discarded`);
  }
}

export class UpstreamNetworkError extends Error {
  override readonly name: string = 'UpstreamNetworkError';
  readonly code: string;

  constructor(
    readonly upstream: string,
    readonly method: string,
    /** The system error code (ECONNREFUSED, ...), when known. */
    systemCode?: string,
  ) {
    super(`${upstream} ${method} failed: network error${systemCode ? ` (${systemCode})` : ''}`);
    this.code = systemCode ? `upstream_network_${systemCode.toLowerCase()}` : 'upstream_network';
  }
}
