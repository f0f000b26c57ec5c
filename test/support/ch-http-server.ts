/**
 * A small ClickHouse HTTP interface over a chdb Session: enough of what
 * @clickhouse/client sends (query in URL or body, param_<name> binding,
 * settings as URL params, database, FORMAT, INSERT ... FORMAT with the body as
 * data, gzip both ways, /ping) and reads back (status, X-ClickHouse-Summary,
 * X-ClickHouse-Query-Id, X-ClickHouse-Exception-Code, `Code: N. DB::Exception`
 * bodies), so the http store driver is tested against a real engine.
 *
 * Requests run one at a time per session: settings are applied with SET before a
 * query and reset after it, and a session's settings are shared state. With
 * `sessions: N` the server opens N chdb sessions on the same data directory (one
 * engine) and runs up to N requests at once, each on a session of its own.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { gunzipSync, gzipSync, inflateSync, brotliDecompressSync } from 'node:zlib';
import { mkdirSync } from 'node:fs';
import { Session, drainPending } from 'chdb';

export interface ClickHouseHttpServer {
  url: string;
  /** Queries seen, for tests that check what the client sent (the SQL text only). */
  readonly queries: string[];
  close(): Promise<void>;
}

export interface ClickHouseHttpServerOptions {
  dataDir: string;
  /** When set, requests must authenticate as this user (Basic or X-ClickHouse-User/Key). */
  auth?: { username: string; password: string };
  /** Requests served at once, each on its own chdb session over the same engine. Default 1. */
  sessions?: number;
}

/** URL parameters that are part of the protocol, not ClickHouse settings. */
const PROTOCOL_PARAMS = new Set([
  'query',
  'query_id',
  'database',
  'default_format',
  'session_id',
  'session_timeout',
  'session_check',
  'compress',
  'decompress',
  'user',
  'password',
  'quota_key',
  'role',
  'buffer_size',
  'wait_end_of_query',
  'enable_http_compression',
]);

const CONTENT_TYPES: Record<string, string> = {
  JSONEachRow: 'application/x-ndjson; charset=UTF-8',
  JSON: 'application/json; charset=UTF-8',
  CSV: 'text/csv; charset=UTF-8; header=absent',
};

const INSERT_RE = /^\s*INSERT\s+INTO\s+([A-Za-z0-9_.]+)\s*(?:\(([^)]*)\))?\s*FORMAT\s+(\w+)\s*$/i;
const TRAILING_FORMAT_RE = /\s+FORMAT\s+(\w+)\s*;?\s*$/i;
const IDENT_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

export async function startClickHouseHttpServer(opts: ClickHouseHttpServerOptions): Promise<ClickHouseHttpServer> {
  mkdirSync(opts.dataDir, { recursive: true });
  const sessions = Array.from({ length: Math.max(1, opts.sessions ?? 1) }, () => new Session(opts.dataDir));
  const queries: string[] = [];
  // One chain per session; a request joins the chain with the fewest requests waiting.
  const chains = sessions.map(() => ({ tail: Promise.resolve() as Promise<unknown>, waiting: 0 }));

  const server = createServer((req, res) => {
    let i = 0;
    for (let k = 1; k < chains.length; k++) if (chains[k]!.waiting < chains[i]!.waiting) i = k;
    const c = chains[i]!;
    c.waiting++;
    const run = c.tail.then(() => handle(sessions[i]!, req, res));
    c.tail = run.catch(() => undefined).finally(() => c.waiting--);
  });

  async function handle(session: Session, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const queryId = url.searchParams.get('query_id') || randomUUID();
    res.setHeader('X-ClickHouse-Query-Id', queryId);
    res.setHeader('X-ClickHouse-Timezone', 'UTC');
    res.setHeader('Keep-Alive', 'timeout=10');
    try {
      const body = decode(await readAll(req), req.headers['content-encoding']);
      if (url.pathname === '/ping') return send(req, res, 200, 'Ok.\n', 'text/plain; charset=UTF-8', false);
      if (url.pathname !== '/') return fail(req, res, 404, 1000, 'UNKNOWN_PATH', `no handler for ${url.pathname}`);
      if (opts.auth && !authenticated(req, url, opts.auth)) {
        return fail(req, res, 403, 516, 'AUTHENTICATION_FAILED', 'default: Authentication failed');
      }
      const compress = url.searchParams.get('enable_http_compression') === '1';
      const settings = settingsFrom(url);
      const params = paramsFrom(url);
      const database = url.searchParams.get('database');
      const urlQuery = url.searchParams.get('query');

      const insert = urlQuery ? INSERT_RE.exec(urlQuery) : null;
      if (insert) {
        queries.push(urlQuery!);
        const [, table, columns, format] = insert;
        const summary = await session.insert({
          table: table!.includes('.') || !database ? table! : `${database}.${table}`,
          values: body,
          format: format as 'JSONEachRow',
          columns: columns ? columns.split(',').map((c) => c.trim()) : undefined,
          settings,
        });
        res.setHeader('X-ClickHouse-Summary', summaryHeader({ written_rows: summary.rowsWritten, written_bytes: summary.bytesWritten }));
        return send(req, res, 200, '', 'text/plain; charset=UTF-8', compress);
      }

      // ClickHouse semantics: the URL query, then the body, form one query text.
      let sql = [urlQuery ?? '', body.toString('utf8')].filter((s) => s.length > 0).join('\n');
      queries.push(sql);
      let format = url.searchParams.get('default_format') || 'TabSeparated';
      const trailing = TRAILING_FORMAT_RE.exec(sql);
      if (trailing) {
        format = trailing[1]!;
        sql = sql.slice(0, trailing.index);
      }

      const applied = await applySettings(session, database, settings);
      try {
        const result =
          Object.keys(params).length > 0
            ? await session.queryBindAsync(sql, params, { format })
            : await session.queryAsync(sql, { format });
        const out = Buffer.from(result.bytes());
        res.setHeader('X-ClickHouse-Format', format);
        res.setHeader('X-ClickHouse-Summary', summaryHeader({ read_rows: result.rowsRead, read_bytes: result.bytesRead }));
        return send(req, res, 200, out, CONTENT_TYPES[format] ?? 'text/plain; charset=UTF-8', compress);
      } finally {
        await resetSettings(session, applied);
      }
    } catch (err) {
      const e = err as { clickhouseCode?: number; message?: string };
      const message = e.message ?? String(err);
      const code = e.clickhouseCode ?? Number(/^Code: (\d+)/.exec(message)?.[1] ?? 1000);
      const text = /^Code: \d+\./.test(message) ? message : `Code: ${code}. DB::Exception: ${message}. (UNKNOWN_EXCEPTION)`;
      return fail(req, res, 500, code, '', text);
    }
  }

  async function applySettings(session: Session, database: string | null, settings: Record<string, string>): Promise<string[]> {
    const applied: string[] = [];
    if (database && database !== 'default') {
      if (!IDENT_RE.test(database)) throw new Error(`Code: 81. DB::Exception: Database ${database} does not exist. (UNKNOWN_DATABASE)`);
      await session.queryAsync(`USE ${database}`);
      applied.push('\0database');
    }
    for (const [name, value] of Object.entries(settings)) {
      await session.queryAsync(`SET ${name} = '${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`);
      applied.push(name);
    }
    return applied;
  }

  async function resetSettings(session: Session, applied: string[]): Promise<void> {
    for (const name of applied) {
      await session.queryAsync(name === '\0database' ? 'USE default' : `SET ${name} = DEFAULT`);
    }
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    queries,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await Promise.all(chains.map((c) => c.tail));
      for (const session of sessions) session.close();
      await drainPending();
    },
  };
}

function settingsFrom(url: URL): Record<string, string> {
  const settings: Record<string, string> = {};
  for (const [key, value] of url.searchParams) {
    if (PROTOCOL_PARAMS.has(key) || key.startsWith('param_')) continue;
    if (!IDENT_RE.test(key)) throw new Error(`Code: 115. DB::Exception: Unknown setting ${key}. (UNKNOWN_SETTING)`);
    settings[key] = value;
  }
  return settings;
}

/** `param_<name>` values arrive in ClickHouse's escaped text form; chdb escapes again, so unescape first. */
function paramsFrom(url: URL): Record<string, string | null> {
  const params: Record<string, string | null> = {};
  for (const [key, value] of url.searchParams) {
    if (key.startsWith('param_')) params[key.slice('param_'.length)] = value === '\\N' ? null : unescapeTsv(value);
  }
  return params;
}

const TSV_UNESCAPES: Record<string, string> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', '0': '\0', "'": "'", '\\': '\\' };

function unescapeTsv(s: string): string {
  return s.replace(/\\(.)/gs, (_, c: string) => TSV_UNESCAPES[c] ?? c);
}

function authenticated(req: IncomingMessage, url: URL, auth: { username: string; password: string }): boolean {
  const header = req.headers.authorization;
  let user = url.searchParams.get('user') ?? (req.headers['x-clickhouse-user'] as string | undefined);
  let password = url.searchParams.get('password') ?? (req.headers['x-clickhouse-key'] as string | undefined);
  if (header?.startsWith('Basic ')) {
    const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
    const i = decoded.indexOf(':');
    user = decoded.slice(0, i);
    password = decoded.slice(i + 1);
  }
  return user === auth.username && password === auth.password;
}

function decode(body: Buffer, encoding: string | string[] | undefined): Buffer {
  switch (encoding) {
    case undefined:
    case 'identity':
      return body;
    case 'gzip':
      return gunzipSync(body);
    case 'deflate':
      return inflateSync(body);
    case 'br':
      return brotliDecompressSync(body);
    default:
      throw new Error(`Code: 1000. DB::Exception: Unknown HTTP content encoding ${String(encoding)}. (UNKNOWN_EXCEPTION)`);
  }
}

async function readAll(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function summaryHeader(values: Record<string, number | undefined>): string {
  const base = { read_rows: 0, read_bytes: 0, written_rows: 0, written_bytes: 0, total_rows_to_read: 0, result_rows: 0, result_bytes: 0, elapsed_ns: 0 };
  const merged: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...base, ...values })) merged[k] = String(v ?? 0);
  return JSON.stringify(merged);
}

function send(req: IncomingMessage, res: ServerResponse, status: number, body: Buffer | string, contentType: string, compress: boolean): void {
  let payload = typeof body === 'string' ? Buffer.from(body) : body;
  const accept = String(req.headers['accept-encoding'] ?? '');
  if (compress && /\bgzip\b/.test(accept)) {
    payload = gzipSync(payload);
    res.setHeader('Content-Encoding', 'gzip');
  }
  res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': payload.length });
  res.end(payload);
}

function fail(req: IncomingMessage, res: ServerResponse, status: number, code: number, type: string, message: string): void {
  const text = message.startsWith('Code:') ? message : `Code: ${code}. DB::Exception: ${message}. (${type || 'UNKNOWN_EXCEPTION'})`;
  res.setHeader('X-ClickHouse-Exception-Code', String(code));
  send(req, res, status, text.endsWith('\n') ? text : text + '\n', 'text/plain; charset=UTF-8', false);
}
