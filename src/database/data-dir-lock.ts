import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';

const LOCK_FILE = 'service.lock';

/** Lock files this process holds: a second open of the same DATA_DIR here is refused too. */
const held = new Set<string>();

/** The kernel's start time of a process (clock ticks since boot), when /proc tells it. */
function startTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses; fields after it are plain.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

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
  writeSync(fd, `${process.pid} ${startTime(process.pid) ?? ''}`.trim());
  closeSync(fd);
  return true;
}

/**
 * Whether the lock's recorded owner is still the process that wrote it. Our own pid is stale
 * unless this very process holds the lock (a restarted container runs as PID 1 again, and its
 * previous incarnation was also PID 1); another pid is stale when it is gone, or alive but
 * started at another time than recorded (the pid was reused).
 */
function ownerAlive(file: string, content: string): { pid: number; alive: boolean } {
  const [pidText, recordedStart] = content.trim().split(/\s+/);
  const pid = Number.parseInt(pidText ?? '', 10);
  if (!Number.isInteger(pid) || pid <= 0) return { pid, alive: false };
  if (pid === process.pid) return { pid, alive: held.has(file) };
  if (!processAlive(pid)) return { pid, alive: false };
  const current = startTime(pid);
  const reused = recordedStart !== undefined && current !== undefined && current !== recordedStart;
  return { pid, alive: !reused };
}

/**
 * An exclusive claim on DATA_DIR: the embedded database must have exactly one process. A lock
 * left by a process that no longer exists (or by an earlier process with our own pid) is taken
 * over.
 */
export class DataDirLock {
  private constructor(private readonly file: string) {}

  static acquire(dataDir: string): DataDirLock {
    mkdirSync(dataDir, { recursive: true });
    const file = join(dataDir, LOCK_FILE);
    for (let attempt = 0; attempt < 2; attempt++) {
      if (tryCreate(file)) {
        held.add(file);
        return new DataDirLock(file);
      }
      const { pid: owner, alive } = ownerAlive(file, readFileSync(file, 'utf8'));
      if (alive) {
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
    held.delete(this.file);
    rmSync(this.file, { force: true });
  }
}
