/**
 * One error type for both drivers. Its `code` and `clickhouseCode` are safe to
 * log; its message may quote the query or data and must not be logged.
 */
export class StoreError extends Error {
  override readonly name = 'StoreError';
  constructor(
    readonly driver: 'embedded' | 'http',
    /** Stable code: the chdb code (`CHDB_SYNTAX`, ...) or `CLICKHOUSE_<n>` / `HTTP` for the http driver. */
    readonly code: string,
    message: string,
    /** Numeric ClickHouse exception code, when the engine gave one. */
    readonly clickhouseCode?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** The log-safe description: class and code, never the message. */
  toLog(): { errClass: string; code: string; clickhouseCode?: number; driver: string } {
    return { errClass: this.name, code: this.code, clickhouseCode: this.clickhouseCode, driver: this.driver };
  }
}

export function isStoreError(err: unknown): err is StoreError {
  return err instanceof StoreError;
}
