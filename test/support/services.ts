import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PG_CLUSTER = fileURLToPath(new URL('../../.ci/pg-cluster.sh', import.meta.url));
const REDIS = fileURLToPath(new URL('../../.ci/redis.sh', import.meta.url));
const PGBIN = process.env.PGBIN ?? '/usr/lib/postgresql/15/bin';

/**
 * A service URL the run always has: given in the environment, or started by global-setup.ts,
 * which fails the run rather than leave one out.
 */
export function serviceUrl(name: 'TEST_DATABASE_URL' | 'TEST_REDIS_URL'): string {
  const url = process.env[name];
  if (!url) throw new Error(`${name} is not set: run the tests with npm test (see README "Tests")`);
  return url;
}

/** A loopback port nobody listens on right now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const address = s.address();
      s.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** A throwaway redis-server (.ci/redis.sh) on its own port, that a test may stop and start again. */
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

  /** Starts it empty (nothing is persisted across a stop). */
  start(): void {
    execFileSync('bash', [REDIS, 'start', this.dir, String(this.port)]);
  }

  stop(): void {
    execFileSync('bash', [REDIS, 'stop', this.dir, String(this.port)]);
  }

  remove(): void {
    this.stop();
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
