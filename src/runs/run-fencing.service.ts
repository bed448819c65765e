import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { ClusterBus } from '../cluster/cluster-bus.js';
import { FaultPoints } from '../common/fault-points.js';
import { PeriodicJob } from '../common/periodic-job.js';
import { RunLifecycle } from './run-lifecycle.service.js';
import { RunsStore } from './runs.store.js';
import { LiveRuns } from './live-runs.js';
import { PausedRuns } from './paused-runs.js';

/**
 * Who may keep a run going. With `stale` = RUN_STALE_AFTER_MS:
 * - every stale/4 this node renews the runs it really executes (nothing else of its node id);
 * - a run this node could not renew for 0.6 × stale is abandoned here, before anybody may take
 *   it over (a slow node stops itself; it never runs alongside its replacement);
 * - every stale/4 any node takes over runs not renewed for `stale` (one conditional UPDATE per
 *   run, fenced on owner and heartbeat): interrupted, retry offered. That includes runs nothing
 *   ever executed (a launch that failed or was refused at shutdown). A run waiting on a question
 *   is not interrupted but parked (PausedRuns): its question stays open, and the node that sees
 *   it answered adopts it.
 * At start-up without Redis every active run is left from a previous process: all are taken over.
 */
@Injectable()
export class RunFencing implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(RunFencing.name);
  private readonly staleAfterMs: number;
  private readonly renewedAt = new Map<string, number>();
  /**
   * Three jobs on one period, each one tick at a time: the fence must go on while a heartbeat
   * hangs (that is when it abandons runs), and a slow takeover must not delay the heartbeat.
   */
  private readonly jobs: readonly [
    fence: PeriodicJob,
    heartbeat: PeriodicJob,
    takeover: PeriodicJob,
  ];

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    @Inject(LiveRuns) private readonly liveRuns: LiveRuns,
    @Inject(RunsStore) private readonly store: RunsStore,
    @Inject(RunLifecycle) private readonly lifecycle: RunLifecycle,
    @Inject(ClusterBus) private readonly cluster: ClusterBus,
    @Inject(FaultPoints) private readonly faults: FaultPoints,
    @Inject(PausedRuns) private readonly pauses: PausedRuns,
  ) {
    this.staleAfterMs = config.timeouts.runStaleAfterMs;
    const job = (name: string, run: () => Promise<void> | void): PeriodicJob =>
      new PeriodicJob({ name, everyMs: this.staleAfterMs / 4, run, logger: this.logger });
    this.jobs = [
      job('run fence', () => this.fence()),
      job('heartbeat', () => this.heartbeat()),
      job('takeover', () => this.takeOver(this.staleAfterMs)),
    ];
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.takeOver(this.cluster.enabled ? this.staleAfterMs : 0);
    for (const job of this.jobs) job.start();
  }

  /**
   * Stops the three jobs, waiting only for a takeover pass in flight (it writes runs; the
   * database closes after the hooks). A renewal or fence tick is moot by now, and a heartbeat
   * that hangs (the case the fence exists for) must not hold the shutdown.
   */
  async beforeApplicationShutdown(): Promise<void> {
    const [fence, heartbeat, takeover] = this.jobs;
    void fence.stop();
    void heartbeat.stop();
    await takeover.stop();
  }

  /** Abandons the runs this node has not managed to renew for too long. */
  private fence(): void {
    const now = Date.now();
    const live = this.liveRuns.live();
    const ids = new Set(live.map((r) => r.spec.runId));
    for (const id of this.renewedAt.keys()) if (!ids.has(id)) this.renewedAt.delete(id);
    for (const run of live) {
      const renewed = this.renewedAt.get(run.spec.runId);
      if (renewed === undefined) this.renewedAt.set(run.spec.runId, now);
      else if (now - renewed > this.staleAfterMs * 0.6) {
        this.logger.warn(
          { runId: run.spec.runId, sessionId: run.spec.sessionId },
          'could not renew the run in time; abandoning it before a takeover',
        );
        run.abandon('not renewed');
      }
    }
  }

  private async heartbeat(): Promise<void> {
    try {
      await this.faults.hit('node.heartbeat');
      const live = this.liveRuns.live();
      const renewed = new Set(
        await this.store.heartbeat(
          this.liveRuns.nodeId,
          live.map((r) => r.spec.runId),
        ),
      );
      const now = Date.now();
      for (const run of live) {
        if (renewed.has(run.spec.runId)) this.renewedAt.set(run.spec.runId, now);
        // Ended or taken over by somebody else: it must not write on.
        else run.abandon('no longer ours');
      }
    } catch (err) {
      this.logger.warn({ err }, 'heartbeat failed');
    }
  }

  /**
   * Parks waiting runs and interrupts the other active runs not renewed for `staleMs` (0: every
   * active run); then adopts the parked runs already answered.
   */
  private async takeOver(staleMs: number): Promise<void> {
    try {
      // 0 means "every active run": a little ahead of now, for the clocks of app and database.
      const staleBefore = new Date(staleMs === 0 ? Date.now() + 1000 : Date.now() - staleMs);
      const rows = await this.store.staleRuns({
        nodeId: this.liveRuns.nodeId,
        staleBefore,
        anyNode: true,
      });
      const mine = new Set(this.liveRuns.live().map((r) => r.spec.runId));
      const taken: string[] = [];
      const parked: string[] = [];
      for (const row of rows) {
        if (mine.has(row.id)) continue;
        const holder = { nodeId: row.node_id, staleBefore };
        if (row.status === 'awaiting_input' && (await this.pauses.park(row.id, holder)))
          parked.push(row.id);
        else if (await this.lifecycle.interrupt(row, { staleBefore })) taken.push(row.id);
      }
      if (taken.length) this.logger.warn({ runs: taken }, 'interrupted runs taken over');
      if (parked.length) this.logger.log({ runs: parked }, 'parked waiting runs taken over');
      await this.pauses.adoptReady();
    } catch (err) {
      this.logger.error({ err }, 'taking over stale runs failed');
    }
  }
}
