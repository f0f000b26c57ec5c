/**
 * The `tool_call` log line written from the record's JSON, serialised once
 * by the sink and shared with the shipper. The line is byte-for-byte what
 * `logger.info({ record }, 'tool_call')` writes (level, time, bindings,
 * `record`, msg), assembled from the logger's own parts (`pino.symbols`).
 *
 * Only for loggers made by createLogger with the default redact paths:
 * those paths never match a CallRecord (it has no credential fields; it is
 * redacted when built), so skipping pino's redaction changes nothing. Any
 * other logger, or one with options that reshape lines (mixin, formatters.log,
 * nestedKey, hooks, msgPrefix, a `record` serializer, extra redact paths,
 * metadata streams), goes through `logger.info` as before.
 */
import { tracingChannel } from 'node:diagnostics_channel';
import type { Logger } from 'pino';
import { pino } from './pino.js';

let symbols: Record<string, symbol> | undefined;
/** pino's symbols, read once pino is loaded (a logger exists by then). */
const sym = () => (symbols ??= pino().symbols as unknown as Record<string, symbol>);
const needsMetadata = Symbol.for('pino.metadata');
const asJsonChannel = tracingChannel('pino_asJson');

/** Stringifier sets (one per createLogger instance) whose redact paths cannot touch a record. */
const recordSafe = new WeakSet<object>();

/** Called by createLogger when the logger redacts only REDACT_PATHS. */
export function markRecordSafe(logger: Logger): void {
  const stringifiers = (logger as unknown as Record<symbol, unknown>)[sym().stringifiersSym!];
  if (stringifiers && typeof stringifiers === 'object') recordSafe.add(stringifiers);
}

export type RecordLineWriter = (recordJson: string) => void;

/** A writer for `logger`, or undefined when the line must go through `logger.info`. */
export function recordLineWriter(logger: Logger): RecordLineWriter | undefined {
  const l = logger as unknown as Record<symbol, any>;
  const S = sym();
  const stream = l[S.streamSym!];
  const formatters = l[S.formattersSym!];
  const hooks = l[S.hooksSym!];
  const serializers = l[S.serializersSym!];
  if (
    !recordSafe.has(l[S.stringifiersSym!]) ||
    !stream ||
    typeof stream.write !== 'function' ||
    stream[needsMetadata] === true ||
    l[S.mixinSym!] ||
    formatters?.log ||
    l[S.nestedKeySym!] ||
    l[S.msgPrefixSym!] ||
    hooks?.logMethod ||
    hooks?.streamWrite ||
    serializers?.record ||
    typeof l[S.timeSym!] !== 'function' ||
    typeof l[S.endSym!] !== 'string'
  ) {
    return undefined;
  }
  const msg = `,${JSON.stringify(l[S.messageKeySym!] ?? 'msg')}:"tool_call"`;
  return (recordJson) => {
    if (!logger.isLevelEnabled('info')) return;
    const level = logger.levels.values.info!;
    // Read per line: level, bindings (setBindings) and the level-string cache may change.
    const head = l[S.lsCacheSym!]?.[level];
    if (typeof head !== 'string' || asJsonChannel.hasSubscribers) {
      logger.info({ record: JSON.parse(recordJson) }, 'tool_call');
      return;
    }
    stream.write(`${head}${l[S.timeSym!]()}${l[S.chindingsSym!]},"record":${recordJson}${msg}${l[S.endSym!]}`);
  };
}
