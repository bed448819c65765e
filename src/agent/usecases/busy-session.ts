import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../../config/app-config.js';
import { DomainError } from '../../common/domain-error.js';
import type { IfBusyPolicy } from '../../contracts/events.js';
import { Database } from '../../database/database.js';
import { QuotaPolicy } from '../../quotas/quota-policy.service.js';
import { LiveRunStopper } from '../../runs/live-run-stopper.js';
import { QueueStore } from '../../runs/queue.store.js';
import { RunLifecycle } from '../../runs/run-lifecycle.service.js';
import { RunsStore } from '../../runs/runs.store.js';
import { busyForMessage } from './run-starts.js';

/**
 * What `ifBusy` does with a new message while its session is busy (a run going, or intents
 * queued), inside the send's session transaction: `reject` refuses (SESSION_BUSY), `enqueue`
 * queues it (QUEUE_FULL past QUEUE_MAX), `interrupt` / `rollback` end the active run there, so
 * the new intent starts right after it, ahead of the queue.
 */
@Injectable()
export class BusySession {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(RunsStore) private readonly runs: RunsStore,
    @Inject(QueueStore) private readonly queue: QueueStore,
    @Inject(RunLifecycle) private readonly lifecycle: RunLifecycle,
    @Inject(QuotaPolicy) private readonly quotas: QuotaPolicy,
    @Inject(LiveRunStopper) private readonly stopper: LiveRunStopper,
    @Inject(Database) private readonly db: Database,
  ) {}

  /** The place the message gets in the queue (1 = next), or undefined when it starts now. */
  async admit(
    sessionId: string,
    userId: string,
    policy: IfBusyPolicy,
  ): Promise<number | undefined> {
    const active = await this.runs.activeRun(sessionId);
    const queued = await this.queue.queuedCount(sessionId);
    if (!active && queued === 0) return undefined;
    if (policy === 'reject') throw busyForMessage();
    if (policy === 'enqueue') {
      const max = this.config.limits.queueMax;
      if (queued >= max)
        throw new DomainError(
          'QUEUE_FULL',
          `This session already has ${max} queued messages; wait for one to start or remove one`,
          { queued, max },
        );
      return queued + 1;
    }
    // Ending the run writes the usage ledger; the user's row is locked before it, as admitRun
    // (next) and every other transaction lock them.
    await this.quotas.holdLimits(userId);
    const ended = await this.lifecycle.interruptInTx(
      sessionId,
      policy === 'rollback' ? 'rolled_back' : 'interrupted',
    );
    // Its execution stops once this commits, writing nothing more, wherever it runs (only that
    // run: the new one may start here next, after the commit).
    if (ended) this.db.afterCommit(() => this.stopper.stopEverywhere(sessionId, ended.runId));
    return undefined;
  }
}
