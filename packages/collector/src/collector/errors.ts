/** An error with an HTTP status whose message is safe to show the client. */
export class HttpError extends Error {
  override readonly name = 'HttpError';
  constructor(
    readonly statusCode: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** The store did not take a batch: the client should retry later. */
export class StoreUnavailableError extends HttpError {
  constructor(readonly retryAfterSeconds: number) {
    super(503, 'store unavailable, retry later', { 'retry-after': String(retryAfterSeconds) });
  }
}

/**
 * The writer's pending rows or bytes are at their bound: refuse now rather
 * than queue without limit. 429 while the store keeps up (a burst), 503 while
 * it is failing (an outage); both carry Retry-After.
 */
export class BackpressureError extends HttpError {
  constructor(status: 429 | 503, retryAfterSeconds: number) {
    super(status, status === 429 ? 'collector busy, retry later' : 'store unavailable and collector queue full, retry later', {
      'retry-after': String(retryAfterSeconds),
    });
  }
}
