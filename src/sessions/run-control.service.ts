import { Inject, Injectable } from '@nestjs/common';
import type { CancelReason, NewEvent } from '../contracts/events.js';
import { Database } from '../database/database.js';
import { HistoryService } from '../history/history.service.js';
import { RunsRepository } from './runs.repository.js';

/**
 * Something that executes runs in this process (the agent orchestrator). Asked first, so it can
 * abort the model call and tools and write the run's closing events itself.
 */
export interface LiveRunCanceller {
  /** Returns the run id if this process was executing the session's run and has now stopped it. */
  cancelLive(sessionId: string, reason: CancelReason): Promise<string | undefined>;
}

/**
 * Ends a session's active run for close/expiry/admin, wherever it is. A run executing here is
 * stopped by the live canceller; otherwise (no executor, or it lives on a dead node) the stored
 * state is ended directly and the closing events are written.
 */
@Injectable()
export class RunControlService {
  private live: LiveRunCanceller | undefined;

  constructor(
    @Inject(Database) private readonly db: Database,
    @Inject(RunsRepository) private readonly runs: RunsRepository,
    @Inject(HistoryService) private readonly history: HistoryService,
  ) {}

  registerLiveCanceller(canceller: LiveRunCanceller): void {
    this.live = canceller;
  }

  /**
   * Cancels the active run (and any open interaction, including a retry offer). For `expired` the
   * intent becomes `abandoned` (so it can be resumed), otherwise `cancelled`.
   */
  async cancelActive(sessionId: string, reason: CancelReason): Promise<string | undefined> {
    const live = await this.live?.cancelLive(sessionId, reason);
    if (live) return live;
    const intentStatus = reason === 'expired' ? 'abandoned' : 'cancelled';
    const done = await this.db.transaction(async (tx) => {
      const run = await this.runs.activeRun(sessionId, tx);
      const resolved = await this.runs.resolveAllPending(sessionId, 'cancelled', tx);
      if (run) await this.runs.endRun(run.id, 'cancelled', tx);
      const intentIds = new Set([
        ...(run ? [run.intent_id] : []),
        ...resolved.map((i) => i.intent_id),
      ]);
      for (const id of intentIds) await this.runs.endIntent(id, intentStatus, tx);
      return { run, resolved };
    });
    const events: NewEvent[] = done.resolved.map((i) => ({
      type: 'interaction_resolved',
      data: { interactionId: i.id, outcome: 'cancelled' },
      runId: i.run_id,
      intentId: i.intent_id,
    }));
    if (done.run) {
      events.push({
        type: 'task_cancelled',
        data: { reason },
        runId: done.run.id,
        intentId: done.run.intent_id,
      });
    }
    if (events.length > 0)
      await this.history.append(sessionId, events, { activity: reason !== 'expired' });
    return done.run?.id;
  }
}
