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
