import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import type { NewEvent } from '../contracts/events.js';
import { Database } from '../database/database.js';
import { HistoryService } from '../history/history.service.js';
import { interactionResolved } from './interaction-events.js';
import { InteractionTimers } from './interaction-timers.js';
import type { RetryOffer, RunRef } from './run-ref.js';
import { RunsStore } from './runs.store.js';

/**
 * A session's open questions as its run ends (RunLifecycle's transactions): all closed at once,
 * or closed and replaced by a retry offer. Their expiry timers follow the commit.
 */
@Injectable()
export class OpenQuestions {
  constructor(
    @Inject(RunsStore) private readonly store: RunsStore,
    @Inject(HistoryService) private readonly history: HistoryService,
    @Inject(Database) private readonly db: Database,
    @Inject(InteractionTimers) private readonly timers: InteractionTimers,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /**
   * The one place a retry is offered: open questions closed, the offer stored, task_failed. The
   * session has one dialog at a time: an open question of this run is closed `cancelled` (its
   * intent is the one offered the retry), and so is another intent's retry offer still open (one
   * left from before this intent was resumed), whose intent then ends `failed`, as if declined:
   * its attempt failed and it will not run again.
   */
  async offerRetry(run: RunRef, error: string, before: NewEvent[]): Promise<RetryOffer> {
    const resolved = await this.closeAll(run.sessionId);
    for (const i of new Set(resolved.map((r) => r.intent_id)))
      if (i !== run.intentId) await this.store.transitionIntent(i, 'failed');
    const offer = {
      interactionId: randomUUID(),
      expiresAt: new Date(Date.now() + this.config.timeouts.retryMs),
    };
    const payload = {
      error,
      attempt: run.attempt,
      canRetry: true,
      interactionId: offer.interactionId,
    };
    await this.store.insertInteraction({
      id: offer.interactionId,
      runId: run.runId,
      intentId: run.intentId,
      sessionId: run.sessionId,
      kind: 'retry',
      payload,
      expiresAt: offer.expiresAt,
    });
    await this.history.append(run.sessionId, [
      ...resolved.map((i) => interactionResolved(i, 'cancelled')),
      ...before.map((e) => ({ ...e, runId: run.runId, intentId: run.intentId })),
      { type: 'task_failed', data: payload, runId: run.runId, intentId: run.intentId },
    ]);
    this.db.afterCommit(() => this.timers.schedule(offer.interactionId, offer.expiresAt));
    return offer;
  }

  /** Closes every open question of the session; their expiry timers go with the commit. */
  async closeAll(sessionId: string) {
    const resolved = await this.store.resolveAllPending(sessionId, 'cancelled');
    this.db.afterCommit(() => resolved.forEach((i) => this.timers.clear(i.id)));
    return resolved;
  }
}
