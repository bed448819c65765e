import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataDirLock } from './data-dir-lock.js';

describe('DataDirLock', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'lock-test-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('takes over a lock left by an earlier process with our own pid (a restarted container)', () => {
    // What a SIGKILLed PID 1 leaves behind, seen by the next PID 1.
    writeFileSync(join(dir, 'service.lock'), `${process.pid} 12345`);
    const lock = DataDirLock.acquire(dir);
    expect(readFileSync(join(dir, 'service.lock'), 'utf8').split(' ')[0]).toBe(String(process.pid));
    lock.release();
  });

  it('refuses a second claim from this same process while the first holds it', () => {
    const lock = DataDirLock.acquire(dir);
    expect(() => DataDirLock.acquire(dir)).toThrow(/in use by process/);
    lock.release();
    DataDirLock.acquire(dir).release();
  });

  it('refuses while another live process holds it, and takes over once it was SIGKILLed', async () => {
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], {
      stdio: 'ignore',
    });
    await new Promise((r) => child.once('spawn', r));
    const stat = readFileSync(`/proc/${child.pid}/stat`, 'utf8');
    const start = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
    writeFileSync(join(dir, 'service.lock'), `${child.pid} ${start}`);
    expect(() => DataDirLock.acquire(dir)).toThrow(/in use by process/);
    // The same pid, but a process started at another time: the pid was reused.
    writeFileSync(join(dir, 'service.lock'), `${child.pid} 1`);
    DataDirLock.acquire(dir).release();
    writeFileSync(join(dir, 'service.lock'), `${child.pid} ${start}`);
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
    DataDirLock.acquire(dir).release();
  });
});
