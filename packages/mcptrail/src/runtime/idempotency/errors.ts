/** A duplicate waited longer than allowed for the first call with the same key to finish. */
export class IdempotencyWaitTimeoutError extends Error {
  override readonly name = 'IdempotencyWaitTimeoutError';
  readonly code = 'idempotency_in_progress';
  constructor() {
    super('A call with the same idempotency key is still in progress; retry later.');
  }
}

/** The same caller key was used for a different tool or different arguments. */
export class IdempotencyConflictError extends Error {
  override readonly name = 'IdempotencyConflictError';
  readonly code = 'idempotency_key_reused';
  constructor() {
    super('This idempotency key was already used for a different request.');
  }
}
