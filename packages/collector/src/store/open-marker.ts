/**
 * A file that exists while a process has the embedded engine's data open.
 * Found at start, it says the last owner stopped without closing the store (a
 * crash or a SIGKILL), so what a cut-off insert may have left half-done is
 * checked (rollup-repair.ts). The engine itself owns the data directory's lock.
 */
import { existsSync, rmSync, writeFileSync } from 'node:fs';

export interface OpenMarker {
  /** The previous run left the store open. */
  readonly previousRunCrashed: boolean;
  /** After the store closed cleanly. */
  clear(): void;
}

export function openMarker(storePath: string): OpenMarker {
  const file = `${storePath}.open`;
  const previousRunCrashed = existsSync(file);
  writeFileSync(file, `${process.pid}\n`);
  return {
    previousRunCrashed,
    clear: () => rmSync(file, { force: true }),
  };
}
