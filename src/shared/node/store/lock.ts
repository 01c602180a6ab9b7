// One process per data directory: a lock file holding the owner's PID, created exclusively.
// A lock left by a process that no longer runs (kill -9) is taken over.
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export class LockError extends Error {
  override readonly name = 'LockError';
}

/** True if a process with this PID exists (EPERM: it exists but is not ours to signal). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Name of the lock file in a locked directory; it holds the owner's PID. */
export const LOCK_FILE = 'LOCK.pid';

/** The PID in dir's lock file if that process runs (this one included), else undefined. */
export function lockHolder(dir: string): number | undefined {
  let pid: number;
  try {
    pid = Number(readFileSync(join(dir, LOCK_FILE), 'utf8').trim());
  } catch {
    return undefined; // no lock, or it vanished meanwhile
  }
  return Number.isInteger(pid) && pid > 0 && (pid === process.pid || processAlive(pid)) ? pid : undefined;
}

export class DirLock {
  private constructor(private readonly path: string) {}

  static acquire(dir: string, what: string): DirLock {
    const path = join(dir, LOCK_FILE);
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = openSync(path, 'wx', 0o600);
        writeSync(fd, String(process.pid));
        closeSync(fd);
        return new DirLock(path);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        const pid = lockHolder(dir);
        if (pid !== undefined && pid !== process.pid) {
          throw new LockError(`${dir} is in use by another ${what} (pid ${pid}); stop it first or use another --datadir`);
        }
        try {
          unlinkSync(path); // stale: its owner is gone
        } catch {
          /* someone else took it over */
        }
      }
    }
    throw new LockError(`could not lock ${dir}`);
  }

  release(): void {
    try {
      unlinkSync(this.path);
    } catch {
      /* already gone */
    }
  }
}
