/** The storage contract both drivers implement with the same SQL. */

/** Values bound server-side to `{name:Type}` placeholders; never spliced into SQL text. */
export type QueryParamValue = string | number | boolean | bigint | null | readonly (string | number | boolean)[];
export type QueryParams = Record<string, QueryParamValue>;

/** ClickHouse settings for one insert (e.g. `{ async_insert: 1 }`). */
export type StoreSettings = Record<string, string | number | boolean>;

/** Output formats `queryRaw` may ask for: names are code, never input. */
export type RawFormat = 'JSONEachRow' | 'Parquet';

export interface InsertOptions {
  settings?: StoreSettings;
  /**
   * insert_deduplication_token: an insert carrying a token the table saw
   * recently is skipped (and so are its rollup rows). Derive it from the
   * block's content so a retry of the same block is a no-op.
   */
  dedupToken?: string;
}

export interface InsertResult {
  /** Rows the engine reports written (including materialized-view cascades when the driver reports them). */
  rowsWritten?: number;
}

export interface Store {
  readonly driver: 'embedded' | 'http';
  /** Runs one statement with no result (DDL, SET, INSERT ... SELECT). */
  exec(sql: string, params?: QueryParams): Promise<void>;
  /**
   * Runs one SELECT and returns its rows (JSONEachRow). The SQL carries no FORMAT clause.
   * DateTime values come back as ISO 8601 UTC strings and 64-bit integers as JSON numbers.
   */
  query<T = Record<string, unknown>>(sql: string, params?: QueryParams): Promise<T[]>;
  /**
   * Runs one SELECT and returns the engine's output in `format` as bytes (`JSONEachRow`, `Parquet`, ...),
   * unparsed: for exports, where the engine's own serialisation is the product. The SQL carries no FORMAT clause.
   */
  queryRaw(sql: string, params: QueryParams | undefined, format: RawFormat): Promise<Buffer>;
  /** Inserts newline-delimited JSON rows as they are: the engine parses them, JS does not. */
  insertNDJSON(table: string, body: Buffer | string, opts?: InsertOptions): Promise<InsertResult>;
  /** True when the store answers. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

export interface OpenStoreOptions {
  /** ClickHouse HTTP URL; selects the `http` driver. Defaults to env MCPTRAIL_CLICKHOUSE_URL. */
  url?: string;
  /** Root data directory of the embedded store. Defaults to env MCPTRAIL_DATA_DIR, then `./.mcptrail`. */
  dataDir?: string;
  username?: string;
  password?: string;
  /** Default database of the http connection (our SQL always names `mcptrail.<table>`). */
  database?: string;
}
