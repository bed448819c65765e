import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { ClusterBus } from '../cluster/cluster-bus.js';
import { PeriodicJob } from '../common/periodic-job.js';
import { currentTraceparent } from '../observability/tracing.js';
import type { InteractionOutcome } from '../contracts/events.js';
import { InteractionLifecycle } from './interaction-lifecycle.service.js';
import { InteractionTimers } from './interaction-timers.js';
import { type AnsweredRow, RunsStore } from './runs.store.js';
import { InteractionHub } from './interaction-hub.js';
import { PausedRuns } from './paused-runs.js';

const SWEEP_MS = 1000;

/**
 * Expires questions and retry offers at their expires_at (a timer each, and a sweep for those
 * from before a restart), and wakes runs whose answer did not reach them: the database row is the
 * truth, so a run waiting here on an interaction that is resolved gets the stored outcome and
 * response, whether the answer's message was lost or its timer found it answered.
 */
@Injectable()
export class InteractionSweeper implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(InteractionSweeper.name);
  private readonly sweeping = new PeriodicJob({
    name: 'interaction sweep',
    everyMs: SWEEP_MS,
    run: () => this.sweep(),
    logger: this.logger,
  });

  constructor(
    @Inject(RunsStore) private readonly store: RunsStore,
    @Inject(InteractionLifecycle) private readonly interactions: InteractionLifecycle,
    @Inject(InteractionHub) private readonly hub: InteractionHub,
    @Inject(InteractionTimers) private readonly timers: InteractionTimers,
    @Inject(ClusterBus) private readonly cluster: ClusterBus,
    @Inject(PausedRuns) private readonly pauses: PausedRuns,
  ) {
    timers.setHandler((id) => this.expire(id));
  }

  onApplicationBootstrap(): void {
    this.sweeping.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    const stopped = this.sweeping.stop();
    this.timers.close();
    await stopped;
  }

  /** Resolves an interaction `timeout` unless answered first; either way its run gets the truth. */
  async expire(interactionId: string): Promise<void> {
    try {
      const row = await this.store.findInteraction(interactionId);
      if (!row) return;
      if (!row.resolved_at) {
        const won = await this.interactions.resolve(row.session_id, interactionId, 'timeout', {});
        if (won) return this.hand({ ...won.row, outcome: 'timeout', response: undefined });
      }
      const stored = await this.store.findInteraction(interactionId);
      if (stored) this.hand(stored);
    } catch (err) {
      this.logger.error({ err, interactionId }, 'could not expire an interaction');
    }
  }

  /**
   * Hands a resolved question's answer to its run: here, to the node that runs it, or (a parked
   * run, whose node stopped) to this node, which adopts the run.
   */
  hand(row: AnsweredRow): void {
    if (row.kind === 'retry' || !row.outcome) return;
    const answer = { outcome: row.outcome, response: row.response ?? undefined };
    if (this.hub.deliver(row.id, answer)) return;
    const traceparent = currentTraceparent();
    this.cluster.publish({
      kind: 'answer',
      interactionId: row.id,
      ...answer,
      ...(traceparent ? { traceparent } : {}),
    });
    this.pauses.adopt(row.run_id).catch((err: unknown) => {
      this.logger.warn({ err, runId: row.run_id }, 'could not adopt a paused run');
    });
  }

  private async sweep(): Promise<void> {
    try {
      for (const row of await this.store.expiredUnresolved(100)) {
        if (!this.timers.has(row.id)) await this.expire(row.id);
      }
      for (const row of await this.store.resolvedAmong(this.hub.waitingIds())) {
        this.hub.deliver(row.id, {
          outcome: row.outcome as InteractionOutcome,
          response: row.response ?? undefined,
        });
      }
      await this.pauses.adoptReady();
    } catch (err) {
      this.logger.warn({ err }, 'interaction sweep failed');
    }
  }
}
