import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';

const LOCK_FILE = 'service.lock';

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Creates the lock file holding our pid; false when it already exists. */
function tryCreate(file: string): boolean {
  let fd: number;
  try {
    fd = openSync(file, 'wx', 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  writeSync(fd, String(process.pid));
  closeSync(fd);
  return true;
}

/**
 * An exclusive claim on DATA_DIR: the embedded database must have exactly one process. A lock
 * left by a process that no longer exists is taken over.
 */
export class DataDirLock {
  private constructor(private readonly file: string) {}

  static acquire(dataDir: string): DataDirLock {
    mkdirSync(dataDir, { recursive: true });
    const file = join(dataDir, LOCK_FILE);
    for (let attempt = 0; attempt < 2; attempt++) {
      if (tryCreate(file)) return new DataDirLock(file);
      const owner = Number.parseInt(readFileSync(file, 'utf8'), 10);
      if (Number.isInteger(owner) && owner > 0 && processAlive(owner)) {
        throw new Error(
          `DATA_DIR ${dataDir} is in use by process ${owner}: the embedded database allows one ` +
            `process per DATA_DIR. Stop that process, choose another DATA_DIR, or set DATABASE_URL.`,
        );
      }
      rmSync(file, { force: true });
    }
    // Two stale-lock takeovers in a row means another process keeps racing us for it.
    throw new Error(`Could not take the lock file ${file}`);
  }

  release(): void {
    rmSync(this.file, { force: true });
  }
}
