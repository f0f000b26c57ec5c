/**
 * One process per directory (the spool, the idempotency journal): a second
 * writer would interleave appends and acknowledgements. The lock is a file
 * naming the owner's pid, created exclusively.
 *
 * A lock is stale when its process is gone, and also when a live process with
 * that pid started after the lock was written: the pid was reused. That is
 * the common case in containers, where a restarted server often gets the same
 * small pid (or pid 1 belongs to a fresh init) and "process 1 is alive" says
 * nothing about who wrote the file. The start time comes from /proc (Linux);
 * elsewhere only liveness is checked.
 */
import { closeSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/** Clock ticks per second of /proc/<pid>/stat's start time (USER_HZ: 100 on every Linux ABI Node runs on). */
const USER_HZ = 100;
/** The computed start time is exact to a tick, boot time to a second: allow for both. */
const START_TOLERANCE_MS = 2_000;

/** Takes the lock (or throws, naming the live owner); returns its release. */
export function lockDirectory(dir: string): () => void {
  const path = join(dir, 'lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => {
        try {
          unlinkSync(path);
        } catch {
          // Already released.
        }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = Number(readFileSync(path, 'utf8'));
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && ownsLock(owner, lockWrittenAt(path))) {
        throw new Error(`directory ${dir} is in use by process ${owner}`);
      }
      // A stale lock: take it over.
      const stale = `${path}.stale-${process.pid}`;
      renameSync(path, stale);
      unlinkSync(stale);
    }
  }
  throw new Error(`could not lock directory ${dir}`);
}

function lockWrittenAt(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return Date.now();
  }
}

/** Whether process `pid` is alive and old enough to have written a lock at `writtenAt`. */
function ownsLock(pid: number, writtenAt: number): boolean {
  if (!isAlive(pid)) return false;
  const started = processStartMs(pid);
  return started === undefined || started <= writtenAt + START_TOLERANCE_MS;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Wall-clock start of `pid` from /proc, or undefined where /proc is not there to ask. */
export function processStartMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 22 (starttime), counted after the parenthesised command name, which may hold spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[19]);
    const btime = /^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'));
    if (!Number.isFinite(ticks) || !btime) return undefined;
    return Number(btime[1]) * 1000 + (ticks * 1000) / USER_HZ;
  } catch {
    return undefined;
  }
}
