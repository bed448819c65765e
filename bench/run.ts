import 'reflect-metadata';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { bareFanout, type FanoutOptions, type FanoutResult, serviceFanout } from './fanout.js';
import { benchHistoryAppend } from './history-append.bench.js';
import { type BenchOptions, parseOptions } from './options.js';
import {
  type ServerChild,
  startBare,
  startPgCluster,
  startRedis,
  startService,
} from './processes.js';
import {
  type BenchReport,
  type ClusterResult,
  machine,
  markdownTable,
  svgChart,
} from './report.js';
import { runIdle } from './idle.js';
import { firstEventLatency, replayTime } from './single-client.js';

/**
 * `npm run bench` / `npm run bench:quick`: the service (built, as its own process) on PostgreSQL
 * with fsync on and on the embedded database, side by side with a bare Socket.IO server doing the
 * same fan-out, in one run. Prints a markdown table, writes JSON and an SVG chart to the output
 * directory, and exits 1 if any client saw a gap, a duplicate or a step back in seq.
 */
const SERVICE_ENV = {
  NODE_ENV: 'production',
  LOG_LEVEL: 'warn',
  JWT_SECRET: 'bench-secret-bench-secret-bench-secret-0123',
  BUILTIN_TOKEN_DELAY_MS: '0',
  GENERATING_COALESCE_MS: '1',
  RATE_LIMIT_MESSAGES_PER_MINUTE: '100000',
  // Bench users create sessions in loops and leave them active.
  RATE_LIMIT_SESSIONS_PER_MINUTE: '100000',
  MAX_SESSIONS_PER_USER: '1000000',
  // Every bench client registers from the same loopback address.
  AUTH_RATE_LIMIT_PER_MINUTE: '100000',
  DAILY_TOKEN_QUOTA: '1000000000',
  SESSION_SWEEP_INTERVAL_MS: '3600000',
};

class Scratch {
  private readonly cleanups: (() => Promise<void>)[] = [];
  readonly dir = mkdtempSync(join(tmpdir(), 'hitl-bench-'));

  constructor() {
    // The throwaway cluster runs as the postgres user, who must reach its directory in here.
    chmodSync(this.dir, 0o755);
  }

  defer(fn: () => Promise<void>): void {
    this.cleanups.push(fn);
  }

  async close(): Promise<void> {
    for (const fn of this.cleanups.reverse()) await fn().catch(() => undefined);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

async function scratchDatabase(adminUrl: string, scratch: Scratch): Promise<string> {
  const name = `bench_${Math.random().toString(36).slice(2, 10)}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  scratch.defer(async () => {
    const c = new pg.Client({ connectionString: adminUrl });
    await c.connect();
    await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await c.end();
  });
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** What the PostgreSQL run left in chat_history: rows and bytes (table, indexes, TOAST). */
async function storageOf(url: string): Promise<BenchReport['storage']> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query('VACUUM ANALYZE chat_history');
    const r = await c.query<{ rows: string; bytes: string }>(
      `SELECT count(*) AS rows, pg_total_relation_size('chat_history') AS bytes FROM chat_history`,
    );
    const rows = Number(r.rows[0].rows);
    const bytes = Number(r.rows[0].bytes);
    return { rows, bytes, bytesPerRow: rows ? bytes / rows : 0 };
  } finally {
    await c.end();
  }
}

function log(line: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
}

async function withService<T>(
  name: string,
  env: Record<string, string>,
  opts: BenchOptions,
  work: (node: ServerChild) => Promise<T>,
): Promise<T> {
  const profileDir = opts.profile ? join(opts.outDir, 'profiles', name) : undefined;
  const node = await startService(name, { ...SERVICE_ENV, ...env }, { profileDir });
  try {
    return await work(node);
  } finally {
    await node.stop();
  }
}

async function runDatabase(
  db: 'postgres' | 'embedded',
  env: Record<string, string>,
  opts: BenchOptions,
  fan: FanoutOptions,
  report: BenchReport,
): Promise<void> {
  await withService(db, env, opts, async (node) => {
    if (opts.parts.has(db)) {
      log(`${db}: fan-out ${fan.clients} clients / ${fan.sessions} sessions`);
      report.fanout[db] = await serviceFanout(`ours, ${db}`, [node], fan);
    }
    if (opts.parts.has('first')) {
      log(`${db}: send → first event`);
      report.firstEvent[db] = await firstEventLatency(node, opts.firstEventSends);
    }
    if (opts.parts.has('replay')) {
      log(`${db}: replay of ${opts.replayEvents} events`);
      report.replay[db] = await replayTime(node, opts.replayEvents, opts.replayRounds);
    }
  });
}

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2), process.env);
  mkdirSync(opts.outDir, { recursive: true });
  const fan: FanoutOptions = {
    clients: opts.clients,
    sessions: opts.sessions,
    count: opts.count,
    timeoutMs: opts.timeoutMs,
  };
  const report: BenchReport = {
    mode: opts.mode,
    startedAt: new Date().toISOString(),
    machine: machine(),
    settings: {
      clients: opts.clients,
      sessions: opts.sessions,
      count: opts.count,
      idleSockets: opts.idleSockets,
      replayEvents: opts.replayEvents,
    },
    fanout: {},
    firstEvent: {},
    replay: {},
    idleHeap: {},
    history: [],
    errors: [],
    ok: false,
  };
  const scratch = new Scratch();
  try {
    let adminUrl = opts.databaseUrl;
    if (!adminUrl) {
      log('starting a throwaway PostgreSQL 15 cluster (fsync on)');
      const cluster = await startPgCluster(join(scratch.dir, 'pg'));
      scratch.defer(cluster.stop);
      adminUrl = cluster.url;
    }
    const pgUrl = await scratchDatabase(adminUrl, scratch);

    const pgEnv = { DATABASE_URL: pgUrl, DATA_DIR: join(scratch.dir, 'pgd') };
    await runDatabase('postgres', pgEnv, opts, fan, report);
    report.storage = await storageOf(pgUrl);
    if (opts.parts.has('idle')) await runIdle({ ...SERVICE_ENV, ...pgEnv }, opts, report, log);
    await runDatabase('embedded', { DATA_DIR: join(scratch.dir, 'embedded') }, opts, fan, report);

    if (opts.parts.has('bare')) {
      const bare = await startBare({
        profileDir: opts.profile ? join(opts.outDir, 'profiles', 'bare') : undefined,
      });
      try {
        const events = Math.round(
          report.fanout.postgres?.eventsPerSession ??
            report.fanout.embedded?.eventsPerSession ??
            opts.count + 8,
        );
        log(`bare: fan-out, ${events} events per room`);
        report.fanout.bare = await bareFanout(bare, fan, events);
      } finally {
        await bare.stop();
      }
    }

    if (opts.parts.has('cluster')) {
      let redisUrl = opts.redisUrl;
      if (!redisUrl) {
        const redis = await startRedis();
        scratch.defer(redis.stop);
        redisUrl = redis.url;
      }
      log('two nodes on Redis: fan-out');
      const env = { ...SERVICE_ENV, DATABASE_URL: pgUrl, REDIS_URL: redisUrl };
      const nodes = await Promise.all(
        ['node-a', 'node-b'].map((n) =>
          startService(
            n,
            { ...env, DATA_DIR: join(scratch.dir, n) },
            {
              profileDir: opts.profile ? join(opts.outDir, 'profiles', n) : undefined,
            },
          ),
        ),
      );
      try {
        const single = report.fanout.postgres?.eventsPerS;
        const perNode = (r: FanoutResult): ClusterResult => ({
          ...r,
          perNodeEventsPerS: r.eventsPerS / nodes.length,
          vsSingleNode: single ? r.eventsPerS / nodes.length / single : 0,
        });
        report.cluster = perNode(
          await serviceFanout('ours, 2 nodes, split', nodes, { ...fan, placement: 'split' }),
        );
        log('two nodes on Redis: fan-out, each session on one node');
        report.clusterAffine = perNode(
          await serviceFanout('ours, 2 nodes, affine', nodes, { ...fan, placement: 'affine' }),
        );
      } finally {
        await Promise.all(nodes.map((n) => n.stop()));
      }
    }

    if (opts.parts.has('history')) {
      for (const url of [await scratchDatabase(adminUrl, scratch), undefined]) {
        log(`event log write rate (${url ? 'postgres' : 'embedded'})`);
        report.history.push(
          await benchHistoryAppend({
            url,
            sessions: opts.historySessions,
            eventsPerSession: opts.historyEventsPerSession,
          }),
        );
      }
    }
  } catch (err) {
    report.errors.push(err instanceof Error ? (err.stack ?? err.message) : String(err));
  } finally {
    await scratch.close();
  }

  const fanouts = [
    ...Object.values(report.fanout),
    ...[report.cluster, report.clusterAffine].filter((c) => c !== undefined),
  ];
  const replays = Object.values(report.replay);
  report.ok =
    report.errors.length === 0 &&
    fanouts.every((f) => f.integrity.ok) &&
    replays.every((r) => r.contiguous);
  const table = markdownTable(report);
  const stamp = report.startedAt.replace(/[:.]/g, '-');
  writeFileSync(join(opts.outDir, `${opts.mode}-${stamp}.json`), JSON.stringify(report, null, 2));
  writeFileSync(join(opts.outDir, `${opts.mode}-latest.json`), JSON.stringify(report, null, 2));
  writeFileSync(join(opts.outDir, `${opts.mode}-latest.md`), table + '\n');
  writeFileSync(join(opts.outDir, `${opts.mode}-latest.svg`), svgChart(report));
  process.stdout.write(table + '\n');
  for (const e of report.errors) process.stderr.write(`bench error: ${e}\n`);
  if (!report.ok) {
    process.stderr.write('bench FAILED: an error or a seq integrity violation (see the JSON)\n');
    process.exitCode = 1;
  }
}

main().catch((err: unknown) => {
  process.stderr.write(String(err) + '\n');
  process.exit(1);
});
