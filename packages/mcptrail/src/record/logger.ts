import type { DestinationStream, Logger, LoggerOptions } from 'pino';
import { pino } from './pino.js';
import { markRecordSafe } from './record-line.js';

export type { Logger } from 'pino';

export interface LoggerFactoryOptions {
  level?: string;
  name?: string;
  /** Where lines go: a stream, a file path (created with its directory), or stdout when omitted. */
  destination?: DestinationStream | string;
  /** Extra paths to redact, in pino's path syntax. */
  redact?: string[];
}

/** Header and credential paths that never reach a log line. */
export const REDACT_PATHS = [
  'authorization',
  'cookie',
  'token',
  'headers.authorization',
  'headers.cookie',
  'headers["set-cookie"]',
  'headers["x-api-key"]',
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
  '*.token',
  '*.accessToken',
  '*.refreshToken',
  '*.authorization',
  '*.apiKey',
  '*.api_key',
];

export function createLogger(opts: LoggerFactoryOptions = {}): Logger {
  const options: LoggerOptions = {
    level: opts.level ?? process.env.LOG_LEVEL ?? 'info',
    name: opts.name,
    redact: { paths: [...REDACT_PATHS, ...(opts.redact ?? [])], censor: '[REDACTED]' },
  };
  const { destination } = opts;
  const p = pino();
  const logger =
    typeof destination === 'string'
      ? p(options, p.destination({ dest: destination, mkdir: true }))
      : destination
        ? p(options, destination)
        : p(options);
  // Extra paths might match a record field; then the record line keeps pino's redaction.
  if (!opts.redact?.length) markRecordSafe(logger);
  return logger;
}

/**
 * The loggable part of an error: its class and code, never its message or
 * stack (which may quote queries, parameters or tokens).
 */
export function errorFields(err: unknown): { error_class: string; error_code: string } {
  return { error_class: errorClass(err), error_code: errorCode(err) };
}

export function errorClass(err: unknown): string {
  if (err instanceof Error) return (err.name && err.name !== 'Error' ? err.name : err.constructor?.name || 'Error').slice(0, 128);
  return typeof err;
}

/** A machine code carried by the error (`code` string or number), if any. */
export function errorCode(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && /^[\w.\-:]{1,64}$/.test(code)) return code;
  if (typeof code === 'number' && Number.isFinite(code)) return String(code);
  return '';
}

export function logError(logger: Logger, err: unknown, msg: string, fields?: Record<string, unknown>): void {
  logger.error({ ...fields, ...errorFields(err) }, msg);
}
