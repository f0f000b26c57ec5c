/**
 * The embedded durable backend: the memory backend's map, with every change
 * appended to a write-ahead journal (`journal.ndjson` in its own directory,
 * next to the record spool) before the operation resolves. An append is a
 * synchronous write(2), so it survives the process dying (SIGKILL) the moment
 * it returns; it is fdatasync'ed (group commit) before the claim, settle or
 * release resolves, so it survives the machine dying too. On open the journal
 * is replayed and rewritten with the live entries only.
 *
 * Entries in progress when the journal was last written belonged to a process
 * that is gone (the directory is locked to one process): their leases are
 * ended at open, so the store's sweep records those calls as interrupted.
 *
 * Why a file: it is what already ships here (the spool is one), it adds no
 * native dependency to the library (node:sqlite needs Node 22), and a
 * single-process journal needs nothing more. Several instances share Redis
 * instead. Entries live in memory for their TTL (24 h by default): sized for
 * one server's writes, not for a fleet's.
 */
import {
  closeSync,
  fdatasync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { lockDirectory } from '../../record/dir-lock.js';
import { MemoryIdempotencyBackend } from './backends.js';

export interface FileIdempotencyBackendOptions {
  dir: string;
  /** fdatasync before an operation resolves (machine-crash safety). Default true; false keeps process-crash safety only. */
  fsync?: boolean;
}

interface JournalLine {
  k: string;
  /** The value; absent for a deletion. */
  v?: string;
  /** Expiry (epoch ms). */
  e?: number;
  /** End of the lease while the entry is in progress. */
  l?: number;
}

/** Rewrite the journal when it is this much larger than its live entries (and over 1 MiB). */
const COMPACT_RATIO = 4;
const COMPACT_MIN_BYTES = 1024 * 1024;

export class FileIdempotencyBackend extends MemoryIdempotencyBackend {
  private readonly path: string;
  private readonly doFsync: boolean;
  private readonly releaseLock: () => void;
  private fd: number;
  private journalBytes = 0;
  /** Bytes each live key's latest line takes (what a compaction would write). */
  private readonly lineBytes = new Map<string, number>();
  private liveBytes = 0;
  private replaying = false;
  private syncing: Promise<void> | undefined;
  private waiters: (() => void)[] = [];
  private closed = false;

  constructor(opts: FileIdempotencyBackendOptions) {
    super();
    mkdirSync(opts.dir, { recursive: true, mode: 0o700 });
    this.releaseLock = lockDirectory(opts.dir);
    this.path = join(opts.dir, 'journal.ndjson');
    this.doFsync = opts.fsync ?? true;
    this.replay();
    this.fd = this.rewrite();
  }

  override async claim(key: string, value: string, ttlMs: number, leaseUntil: number): Promise<boolean> {
    const ok = await super.claim(key, value, ttlMs, leaseUntil);
    if (ok) await this.durable();
    return ok;
  }

  override async settle(key: string, owner: string, value: string, ttlMs: number, leaseUntil?: number): Promise<boolean> {
    const ok = await super.settle(key, owner, value, ttlMs, leaseUntil);
    if (ok) await this.durable();
    return ok;
  }

  override async release(key: string, owner: string): Promise<boolean> {
    const ok = await super.release(key, owner);
    if (ok) await this.durable();
    return ok;
  }

  /** Syncs and closes the journal and releases the directory. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.durable();
    this.closed = true;
    closeSync(this.fd);
    this.releaseLock();
  }

  protected override put(key: string, entry: { value: string; owner: string; expiresAt: number }, leaseUntil: number | undefined): void {
    super.put(key, entry, leaseUntil);
    this.append({ k: key, v: entry.value, e: entry.expiresAt, ...(leaseUntil === undefined ? {} : { l: leaseUntil }) });
  }

  protected override remove(key: string): void {
    super.remove(key);
    this.append({ k: key });
  }

  private append(line: JournalLine): void {
    if (this.replaying) return;
    if (this.closed) throw new Error('the idempotency journal is closed');
    const data = Buffer.from(JSON.stringify(line) + '\n', 'utf8');
    writeSync(this.fd, data);
    this.journalBytes += data.length;
    this.account(line.k, line.v === undefined ? 0 : data.length);
    if (this.journalBytes > COMPACT_MIN_BYTES && this.journalBytes > COMPACT_RATIO * this.liveBytes) {
      closeSync(this.fd);
      this.fd = this.rewrite();
    }
  }

  private account(key: string, bytes: number): void {
    this.liveBytes += bytes - (this.lineBytes.get(key) ?? 0);
    if (bytes > 0) this.lineBytes.set(key, bytes);
    else this.lineBytes.delete(key);
  }

  /** Resolves once everything appended so far is on disk. */
  private durable(): Promise<void> {
    if (!this.doFsync || this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      this.waiters.push(resolve);
      this.kick();
    });
  }

  private kick(): void {
    if (this.syncing || this.waiters.length === 0) return;
    const batch = this.waiters;
    this.waiters = [];
    this.syncing = new Promise<void>((resolve) =>
      // A failed fdatasync leaves the data in the page cache: still process-crash safe, nothing better to do.
      fdatasync(this.fd, () => resolve()),
    ).then(() => {
      this.syncing = undefined;
      for (const w of batch) w();
      this.kick();
    });
  }

  /** Loads the journal into the map; a torn last line (crash mid-append) is ignored. */
  private replay(): void {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    const now = Date.now();
    this.replaying = true;
    try {
      for (const raw of text.split('\n')) {
        if (!raw) continue;
        let line: JournalLine;
        try {
          line = JSON.parse(raw) as JournalLine;
        } catch {
          continue;
        }
        if (typeof line.k !== 'string') continue;
        if (typeof line.v !== 'string' || typeof line.e !== 'number' || line.e <= now) {
          super.remove(line.k);
          continue;
        }
        const value = JSON.parse(line.v) as { o?: unknown; l?: unknown };
        const inProgress = typeof line.l === 'number';
        // In progress when its process died: the lease ends now (in the index and the value), so the
        // store's sweep records the call as interrupted.
        if (inProgress) value.l = 0;
        const owner = typeof value.o === 'string' ? value.o : '';
        super.put(line.k, { value: inProgress ? JSON.stringify(value) : line.v, owner, expiresAt: line.e }, inProgress ? 0 : undefined);
      }
    } finally {
      this.replaying = false;
    }
  }

  /** Writes the live entries to a new journal, atomically replacing the old one; returns its append fd. */
  private rewrite(): number {
    const tmp = `${this.path}.tmp`;
    const fd = openSync(tmp, 'w', 0o600);
    this.lineBytes.clear();
    this.liveBytes = 0;
    let bytes = 0;
    for (const [k, e] of this.entries) {
      const lease = this.leases.get(k);
      const data = Buffer.from(JSON.stringify({ k, v: e.value, e: e.expiresAt, ...(lease === undefined ? {} : { l: lease }) }) + '\n', 'utf8');
      writeSync(fd, data);
      bytes += data.length;
      this.account(k, data.length);
    }
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, this.path);
    syncDirectory(join(this.path, '..'));
    this.journalBytes = bytes;
    return openSync(this.path, 'a', 0o600);
  }
}

function syncDirectory(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // Not every platform syncs directories; the rename is still atomic.
  }
}
