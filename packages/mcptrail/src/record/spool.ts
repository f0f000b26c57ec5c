/**
 * A disk spool for the shipper: the RecordQueue interface over segment files
 * (`seg-<seq>.ndjson`, one record per line) in one directory.
 *
 * Durability: push() appends the line with a synchronous write(2) before it
 * returns, so a record survives the process dying (SIGKILL, crash) the moment
 * emit() returns; fdatasync runs at most `fsyncIntervalMs` later for every
 * record appended meanwhile (group commit), after which it also survives the
 * machine dying. `sync()` waits for that point.
 *
 * Delivery: peek() reads from the oldest segment; ack() advances a cursor
 * (persisted in `cursor.json`) and deletes a segment once all of it was
 * acknowledged. After a restart the spool resumes at the cursor: records
 * shipped but not yet acknowledged are sent again (the collector dedups).
 *
 * Bounds: at most `maxBytes` on disk; past it the oldest segment is dropped
 * and its unshipped records reported through `onDrop`. Memory holds segment
 * metadata and one read buffer, whatever the backlog.
 */
import {
  closeSync,
  fdatasync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  readdirSync,
  unlinkSync,
  writeFileSync,
  writeSync,
  close as closeAsync,
} from 'node:fs';
import { join } from 'node:path';
import { lockDirectory } from './dir-lock.js';
import type { RecordQueue } from './queue.js';

export interface SpoolOptions {
  dir: string;
  /** Bytes on disk before the oldest records are dropped. Default 256 MiB. */
  maxBytes?: number;
  /** A segment is closed and a new one started past this size. Default min(8 MiB, maxBytes / 4). */
  segmentBytes?: number;
  /** Group-commit window: appended records are fdatasync'ed within this. Default 20 ms. */
  fsyncIntervalMs?: number;
  /** Called with the number of unshipped records lost when the cap forces the oldest segment out. */
  onDrop?: (count: number, reason: 'spool_full') => void;
}

export interface Spool extends RecordQueue {
  readonly durable: true;
  /** Bytes in the spool's segments. */
  readonly bytes: number;
  readonly segments: number;
  /** Resolves once every record pushed so far has been fdatasync'ed. */
  sync(): Promise<void>;
  /** Syncs, closes the files and releases the directory lock. Unshipped records stay for the next start. */
  close(): Promise<void>;
}

interface Segment {
  seq: number;
  path: string;
  bytes: number;
  lines: number;
}

interface Pending {
  seq: number;
  /** File offset just past each peeked line: the shipper may ship (and ack) a prefix of the batch. */
  ends: number[];
  lines: number;
}

const SEGMENT_FILE = /^seg-(\d{12})\.ndjson$/;
/**
 * One peek reads at most this much: enough for a full shipper batch (5,000
 * records of ~1 KB, under its 4 Mi-character body cap). At 1 MiB a backlog
 * drained in ~1,000-record batches, each waiting out the collector's batch
 * window, barely faster than a busy server adds to it.
 */
const READ_CHUNK = 6 * 1024 * 1024;

export function openSpool(opts: SpoolOptions): Spool {
  const maxBytes = opts.maxBytes ?? 256 * 1024 * 1024;
  const segmentBytes = Math.max(1024, Math.min(opts.segmentBytes ?? 8 * 1024 * 1024, Math.floor(maxBytes / 4)));
  const fsyncIntervalMs = opts.fsyncIntervalMs ?? 20;
  const dir = opts.dir;
  mkdirSync(dir, { recursive: true });
  const releaseLock = lockDirectory(dir);
  const cursorPath = join(dir, 'cursor.json');

  const saved = readCursorFile(cursorPath);
  const segments: Segment[] = recoverSegments(dir, saved);
  const cursor = readCursor(saved, segments);
  let totalBytes = segments.reduce((n, s) => n + s.bytes, 0);
  let totalLines = segments.reduce((n, s) => n + s.lines, 0);
  /** Lines of the cursor's segment already acknowledged. */
  let consumedLines = cursor.consumedLines;
  let pending: Pending | undefined;

  let active = startSegment((segments.at(-1)?.seq ?? 0) + 1);
  let activeFd = openSync(active.path, 'a');
  let readFd: { seq: number; fd: number } | undefined;
  /** Fds written since the last fdatasync (a rotated segment's stays here until synced, then closes). */
  let unsynced = new Map<number, { fd: number; closeAfter: boolean }>();
  let syncWaiters: (() => void)[] = [];
  let syncTimer: NodeJS.Timeout | undefined;
  let closed = false;

  function startSegment(seq: number): Segment {
    const seg = { seq, path: join(dir, `seg-${String(seq).padStart(12, '0')}.ndjson`), bytes: 0, lines: 0 };
    segments.push(seg);
    if (segments.length === 1) cursorAt(seg.seq, 0, 0);
    return seg;
  }

  function cursorAt(seq: number, offset: number, lines: number): void {
    cursor.seq = seq;
    cursor.offset = offset;
    consumedLines = lines;
  }

  function scheduleSync(): void {
    if (syncTimer || closed) return;
    syncTimer = setTimeout(runSync, fsyncIntervalMs);
  }

  function runSync(): Promise<void> {
    syncTimer = undefined;
    const fds = [...unsynced.values()];
    unsynced = new Map();
    const waiters = syncWaiters;
    syncWaiters = [];
    return Promise.all(
      fds.map(
        ({ fd, closeAfter }) =>
          new Promise<void>((resolve) =>
            // A failed fdatasync leaves the data in the page cache: still process-crash safe, nothing better to do.
            fdatasync(fd, () => (closeAfter ? closeAsync(fd, () => resolve()) : resolve())),
          ),
      ),
    ).then(() => {
      for (const w of waiters) w();
    });
  }

  function rotate(): void {
    unsynced.set(activeFd, { fd: activeFd, closeAfter: true });
    active = startSegment(active.seq + 1);
    activeFd = openSync(active.path, 'a');
    scheduleSync();
  }

  function dropOldestOverCap(): void {
    while (totalBytes > maxBytes && segments.length > 1) {
      const oldest = segments[0]!;
      const unshipped = oldest.lines - (cursor.seq === oldest.seq ? consumedLines : 0);
      // Lines already handed to the shipper are in flight and will still be delivered.
      const inFlight = pending?.seq === oldest.seq ? pending.lines : 0;
      removeSegment(oldest);
      if (cursor.seq === oldest.seq) {
        const next = segments[0]!;
        cursorAt(next.seq, 0, 0);
        writeCursor();
      }
      const lost = Math.max(0, unshipped - inFlight);
      if (lost > 0) opts.onDrop?.(lost, 'spool_full');
    }
  }

  function removeSegment(seg: Segment): void {
    segments.splice(segments.indexOf(seg), 1);
    totalBytes -= seg.bytes;
    totalLines -= seg.lines;
    if (readFd?.seq === seg.seq) {
      closeSync(readFd.fd);
      readFd = undefined;
    }
    try {
      unlinkSync(seg.path);
    } catch {
      // Already gone: nothing to free.
    }
  }

  function writeCursor(): void {
    // Not fsynced: losing it only means re-sending records the collector will recognise.
    writeFileSync(cursorPath, JSON.stringify({ seq: cursor.seq, offset: cursor.offset, lines: consumedLines }));
  }

  function readerFor(seg: Segment): number {
    if (readFd?.seq !== seg.seq) {
      if (readFd) closeSync(readFd.fd);
      readFd = { seq: seg.seq, fd: openSync(seg.path, 'r') };
    }
    return readFd.fd;
  }

  /** Moves the cursor past fully acknowledged, closed segments (deleting them). */
  function advance(): void {
    for (;;) {
      const seg = segments[0];
      if (!seg || seg.seq !== cursor.seq || seg === active || cursor.offset < seg.bytes) return;
      removeSegment(seg);
      const next = segments[0]!;
      cursorAt(next.seq, 0, 0);
    }
  }

  return {
    durable: true,
    push(line) {
      if (closed) return false;
      const data = Buffer.from(line + '\n', 'utf8');
      writeSync(activeFd, data);
      active.bytes += data.length;
      active.lines++;
      totalBytes += data.length;
      totalLines++;
      unsynced.set(activeFd, { fd: activeFd, closeAfter: false });
      scheduleSync();
      if (active.bytes >= segmentBytes) rotate();
      if (totalBytes > maxBytes) dropOldestOverCap();
      return true;
    },
    peek(max) {
      advance();
      const seg = segments.find((s) => s.seq === cursor.seq);
      if (!seg || cursor.offset >= seg.bytes || max <= 0) return [];
      const fd = readerFor(seg);
      let want = Math.min(READ_CHUNK, seg.bytes - cursor.offset);
      for (;;) {
        const buf = Buffer.allocUnsafe(want);
        const n = readSync(fd, buf, 0, want, cursor.offset);
        const text = buf.subarray(0, n);
        const lines: string[] = [];
        const ends: number[] = [];
        let start = 0;
        while (lines.length < max) {
          const nl = text.indexOf(10, start);
          if (nl === -1) break;
          lines.push(text.toString('utf8', start, nl));
          start = nl + 1;
          ends.push(cursor.offset + start);
        }
        // A record longer than the chunk: read more (records are bounded, so this ends).
        if (lines.length === 0 && want < seg.bytes - cursor.offset) {
          want = Math.min(want * 2, seg.bytes - cursor.offset);
          continue;
        }
        pending = { seq: seg.seq, ends, lines: lines.length };
        return lines;
      }
    },
    ack(count) {
      const p = pending;
      pending = undefined;
      // The segment went over the cap while the batch was in flight: the cursor has moved on already.
      if (!p || p.seq !== cursor.seq || count <= 0) return;
      if (count > p.lines) throw new RangeError(`ack(${count}) acknowledges more than the peeked batch (${p.lines})`);
      cursor.offset = p.ends[count - 1]!;
      consumedLines += count;
      advance();
      writeCursor();
    },
    get size() {
      return totalLines - consumedLines;
    },
    get bytes() {
      return totalBytes;
    },
    get segments() {
      return segments.length;
    },
    sync() {
      if (unsynced.size === 0 && !syncTimer) return Promise.resolve();
      return new Promise<void>((resolve) => {
        syncWaiters.push(resolve);
        scheduleSync();
      });
    },
    async close() {
      if (closed) return;
      if (syncTimer) clearTimeout(syncTimer);
      unsynced.set(activeFd, { fd: activeFd, closeAfter: true });
      await runSync();
      closed = true;
      if (readFd) closeSync(readFd.fd);
      readFd = undefined;
      // An empty active segment is noise for the next start.
      if (active.bytes === 0) removeSegment(active);
      releaseLock();
    },
  };
}

/** Existing segments, oldest first, with a torn last line (crash mid-write) cut off. */
function recoverSegments(dir: string, cursor: SavedCursor | undefined): Segment[] {
  const segments: Segment[] = [];
  for (const name of readdirSync(dir).sort()) {
    const m = SEGMENT_FILE.exec(name);
    if (!m) continue;
    const seq = Number(m[1]);
    const path = join(dir, name);
    if (cursor && seq < cursor.seq) {
      unlinkSync(path);
      continue;
    }
    const data = readFileSync(path);
    const end = data.lastIndexOf(10) + 1;
    if (end < data.length) {
      const fd = openSync(path, 'r+');
      ftruncateSync(fd, end);
      closeSync(fd);
    }
    if (end === 0) {
      unlinkSync(path);
      continue;
    }
    let lines = 0;
    for (let i = data.indexOf(10); i !== -1 && i < end; i = data.indexOf(10, i + 1)) lines++;
    segments.push({ seq, path, bytes: end, lines });
  }
  return segments;
}

interface Cursor {
  seq: number;
  offset: number;
  consumedLines: number;
}

interface SavedCursor {
  seq: number;
  offset: number;
  lines: number;
}

function readCursorFile(path: string): SavedCursor | undefined {
  try {
    const c = JSON.parse(readFileSync(path, 'utf8')) as { seq?: unknown; offset?: unknown; lines?: unknown };
    if (Number.isInteger(c.seq) && Number.isInteger(c.offset) && Number.isInteger(c.lines)) return c as SavedCursor;
  } catch {
    // No cursor (first start) or a torn one: start at the oldest segment.
  }
  return undefined;
}

function readCursor(saved: SavedCursor | undefined, segments: Segment[]): Cursor {
  const first = segments[0];
  if (!first) return { seq: 0, offset: 0, consumedLines: 0 };
  if (saved && saved.seq === first.seq && saved.offset <= first.bytes) return { seq: saved.seq, offset: saved.offset, consumedLines: saved.lines };
  return { seq: first.seq, offset: 0, consumedLines: 0 };
}
