import { randomUUID } from 'node:crypto';
import { Test, type TestingModule } from '@nestjs/testing';
import { ClusterModule } from '../../src/cluster/cluster.module.js';
import { FaultPoints } from '../../src/common/fault-points.js';
import { FaultPointsModule } from '../../src/common/fault-points.module.js';
import { loadConfig } from '../../src/config/config.loader.js';
import { ConfigModule } from '../../src/config/config.module.js';
import { Database } from '../../src/database/database.js';
import { DatabaseModule } from '../../src/database/database.module.js';
import { HistoryModule } from '../../src/history/history.module.js';
import { ObservabilityModule } from '../../src/observability/observability.module.js';
import { QuotasModule } from '../../src/quotas/quotas.module.js';
import { LiveRunStopper } from '../../src/runs/live-run-stopper.js';
import { LiveRuns } from '../../src/runs/live-runs.js';
import { RunControlService } from '../../src/runs/run-control.service.js';
import { RUN_EXECUTOR } from '../../src/runs/run-executor.js';
import { RunLauncher } from '../../src/runs/run-launcher.js';
import { AttemptStarts } from '../../src/runs/attempt-starts.js';
import { RunLifecycle } from '../../src/runs/run-lifecycle.service.js';
import type { RunRef } from '../../src/runs/run-ref.js';
import type { RunRow } from '../../src/runs/runs.repository.js';
import { RunsModule } from '../../src/runs/runs.module.js';
import { RunsStore } from '../../src/runs/runs.store.js';
import type { RunStatus } from '../../src/contracts/session.js';
import { HistoryService } from '../../src/history/history.service.js';
import type { TestDatabase } from './databases.js';
import { type HeldExecution, TestExecutor } from './test-executor.js';

/** A row of the session's log, as the engine's tests read it. */
export interface LogRow {
  type: string;
  runId: string | null;
  data: Record<string, unknown>;
}

/**
 * The run engine alone, as a service: RunsModule and the global modules it needs (config,
 * database, history, cluster, quotas, observability) on a real test database, with a
 * TestExecutor as RUN_EXECUTOR (the agent is outside the engine) and the RunLauncher the agent
 * module would provide beside it. No HTTP, no sockets.
 */
export class Engine {
  readonly lifecycle: RunLifecycle;
  readonly store: RunsStore;
  readonly live: LiveRuns;
  readonly launcher: RunLauncher;
  readonly attempts: AttemptStarts;
  readonly control: RunControlService;
  readonly stopper: LiveRunStopper;
  readonly faults: FaultPoints;
  readonly history: HistoryService;
  readonly db: Database;
  readonly executor: TestExecutor;

  constructor(readonly module: TestingModule) {
    this.lifecycle = module.get(RunLifecycle);
    this.store = module.get(RunsStore);
    this.live = module.get(LiveRuns);
    this.launcher = module.get(RunLauncher);
    this.attempts = module.get(AttemptStarts);
    this.control = module.get(RunControlService);
    this.stopper = module.get(LiveRunStopper);
    this.faults = module.get(FaultPoints);
    this.history = module.get(HistoryService);
    this.db = module.get(Database);
    this.executor = module.get<TestExecutor>(RUN_EXECUTOR);
  }

  /** A user and an active session of theirs. */
  async newSession(): Promise<{ sessionId: string; userId: string }> {
    const userId = randomUUID();
    const sessionId = randomUUID();
    await this.db.query(`INSERT INTO users (id, email, password_hash) VALUES ($1, $2, 'x')`, [
      userId,
      `${userId}@engine.test`,
    ]);
    await this.db.query(`INSERT INTO sessions (id, user_id) VALUES ($1, $2)`, [sessionId, userId]);
    return { sessionId, userId };
  }

  /**
   * A committed run of a new intent (in a new session unless given), the way a send commits
   * one: `running`, owned by this node unless `nodeId` says otherwise. Not launched.
   */
  async newRun(
    opts: { sessionId?: string; userId?: string; nodeId?: string } = {},
  ): Promise<RunRef> {
    const owner =
      opts.sessionId && opts.userId
        ? { sessionId: opts.sessionId, userId: opts.userId }
        : await this.newSession();
    const run: RunRef = { ...owner, runId: randomUUID(), intentId: randomUUID(), attempt: 1 };
    await this.history.transaction(run.sessionId, () =>
      this.attempts.startIntent(
        run,
        { content: 'hello', parentIntentId: null, seq: 0 },
        opts.nodeId ?? this.launcher.nodeId,
        {
          transcript: [{ role: 'user', content: 'hello' }],
        },
      ),
    );
    return run;
  }

  /** A new run launched here; resolves once its execution has written task_started. */
  async launchedRun(): Promise<{ run: RunRef; execution: HeldExecution }> {
    const run = await this.newRun();
    expect(this.launcher.launch({ ...run, transcript: [] })).toBe(true);
    const execution = this.executor.of(run.runId);
    await until(() => execution.began !== undefined);
    expect(execution.began).toBe(true);
    return { run, execution };
  }

  async run(runId: string): Promise<RunRow & { heartbeat_at: Date }> {
    const rows = await this.db.query<RunRow & { heartbeat_at: Date }>(
      `SELECT * FROM runs WHERE id = $1`,
      [runId],
    );
    return rows[0];
  }

  async statusOf(runId: string): Promise<{ run: RunStatus; intent: string }> {
    const rows = await this.db.query<{ run: RunStatus; intent: string }>(
      `SELECT r.status AS run, i.status AS intent FROM runs r JOIN intents i ON i.id = r.intent_id
        WHERE r.id = $1`,
      [runId],
    );
    return rows[0];
  }

  /** The session's log, in order. */
  async log(sessionId: string): Promise<LogRow[]> {
    await this.history.drain();
    const rows = await this.db.query<{
      message_type: string;
      run_id: string | null;
      content: object;
    }>(
      `SELECT message_type, run_id, content FROM chat_history WHERE session_id = $1 ORDER BY seq`,
      [sessionId],
    );
    return rows.map((r) => ({
      type: r.message_type,
      runId: r.run_id,
      data: r.content as Record<string, unknown>,
    }));
  }

  /** Runs the user was charged for today (one per ended attempt). */
  async runsCounted(userId: string): Promise<number> {
    const rows = await this.db.query<{ runs: number }>(
      `SELECT COALESCE(SUM(runs), 0)::int AS runs FROM usage_ledger WHERE user_id = $1`,
      [userId],
    );
    return rows[0].runs;
  }

  close(): Promise<void> {
    return this.module.close();
  }
}

/** Starts the engine on `database`; `env` adds configuration (RUN_STALE_AFTER_MS, MAX_RETRIES). */
export async function startEngine(
  database: TestDatabase,
  env: Record<string, string> = {},
): Promise<Engine> {
  const config = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    DATA_DIR: database.dataDir,
    ...(database.url ? { DATABASE_URL: database.url } : {}),
    ...env,
  });
  const module = await Test.createTestingModule({
    imports: [
      ConfigModule.forRoot(config),
      FaultPointsModule,
      ObservabilityModule,
      DatabaseModule,
      HistoryModule,
      ClusterModule,
      QuotasModule,
      RunsModule,
    ],
    providers: [
      {
        provide: RUN_EXECUTOR,
        inject: [RunLifecycle],
        useFactory: (l: RunLifecycle) => new TestExecutor(l),
      },
    ],
  }).compile();
  module.useLogger(false);
  await module.init();
  return new Engine(module);
}

/** Waits (polling) until `condition` holds; fails after `ms`. */
export async function until(
  condition: () => boolean | Promise<boolean>,
  ms = 10000,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
