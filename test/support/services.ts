import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PG_CLUSTER = fileURLToPath(new URL('../../.ci/pg-cluster.sh', import.meta.url));
const PGBIN = process.env.PGBIN ?? '/usr/lib/postgresql/15/bin';

/** A loopback port nobody listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const address = s.address();
      s.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** A throwaway redis-server on its own port, that a test may stop and start again. */
export class ThrowawayRedis {
  private constructor(
    readonly port: number,
    private readonly dir: string,
  ) {}

  static async create(): Promise<ThrowawayRedis> {
    const r = new ThrowawayRedis(await freePort(), mkdtempSync(join(tmpdir(), 'redis-outage-')));
    r.start();
    return r;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  start(): void {
    execFileSync('redis-server', [
      '--port',
      String(this.port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      this.dir,
      '--daemonize',
      'yes',
      '--pidfile',
      join(this.dir, 'redis.pid'),
    ]);
    for (let i = 0; i < 100; i++) {
      if (
        spawnSync('redis-cli', ['-p', String(this.port), 'ping'])
          .stdout?.toString()
          .trim() === 'PONG'
      )
        return;
      execFileSync('sleep', ['0.05']);
    }
    throw new Error('redis-server did not start');
  }

  stop(): void {
    spawnSync('redis-cli', ['-p', String(this.port), 'shutdown', 'nosave']);
  }

  remove(): void {
    this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A throwaway PostgreSQL 15 cluster (.ci/pg-cluster.sh) that a test may stop and start again. */
export class ThrowawayPostgres {
  private constructor(
    readonly port: number,
    private readonly dir: string,
    readonly url: string,
  ) {}

  static async create(): Promise<ThrowawayPostgres> {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'pg-outage-'));
    const url = execFileSync('bash', [PG_CLUSTER, 'start', dir, String(port)])
      .toString()
      .trim();
    return new ThrowawayPostgres(port, dir, url);
  }

  /** Stops the server at once: open connections are terminated, new ones refused. */
  stop(): void {
    this.pgCtl(['-m', 'immediate', 'stop']);
  }

  start(): void {
    this.pgCtl([
      '-l',
      join(this.dir, 'log'),
      '-o',
      `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c fsync=off`,
      'start',
    ]);
  }

  remove(): void {
    execFileSync('bash', [PG_CLUSTER, 'stop', this.dir]);
  }

  private pgCtl(args: string[]): void {
    const cmd = [join(PGBIN, 'pg_ctl'), '-D', join(this.dir, 'data'), '-w', ...args];
    if (process.getuid?.() === 0) execFileSync('runuser', ['-u', 'postgres', '--', ...cmd]);
    else execFileSync(cmd[0], cmd.slice(1));
  }
}
