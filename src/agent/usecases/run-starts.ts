import { Inject, Injectable } from '@nestjs/common';
import { DomainError } from '../../common/domain-error.js';
import { PG_UNIQUE_VIOLATION, sqlState } from '../../database/sql-executor.js';
import { QuotaPolicy } from '../../quotas/quota-policy.service.js';
import { type AnsweredBy, InteractionLifecycle } from '../../runs/interaction-lifecycle.service.js';
import type { RunRef } from '../../runs/run-ref.js';
import { RunsStore } from '../../runs/runs.store.js';
import type { TranscriptMessage } from '../../runs/transcript.js';
import type { RunSpec } from '../../runs/run-spec.js';
import { RunLauncher } from '../../runs/run-launcher.js';
import { AttemptStarts } from '../../runs/attempt-starts.js';

/**
 * Starting runs: `first` (a new intent's first run, message:send) and `next` (a new run of an
 * existing intent: retry after a failure, resume after expiry or interruption, from the last
 * run's checkpointed transcript; regenerate, from the message; attempt = last attempt + 1) run
 * inside the caller's session transaction, `launch` after its commit. A session shows one dialog
 * at a time: a start declines (`no_retry`, its intent `failed`) another intent's retry offer
 * still open (`declineOffers`, which leaves the session's queue waiting behind the new run).
 */
@Injectable()
export class RunStarts {
  constructor(
    @Inject(AttemptStarts) private readonly attempts: AttemptStarts,
    @Inject(RunsStore) private readonly store: RunsStore,
    @Inject(RunLauncher) private readonly launcher: RunLauncher,
    @Inject(QuotaPolicy) private readonly quotas: QuotaPolicy,
    @Inject(InteractionLifecycle) private readonly interactions: InteractionLifecycle,
  ) {}

  /**
   * A new intent and its first run (one statement), whose user_message is at `message.seq`:
   * the caller checked the session is free (or ended its run), admitted the run and declined
   * any retry offer (declineOffers) before it logged the message.
   */
  async first(
    run: RunRef,
    message: { content: string; parentIntentId: string | null; seq: number },
  ): Promise<RunSpec> {
    const transcript: TranscriptMessage[] = [{ role: 'user', content: message.content }];
    await this.attempts.startIntent(run, message, this.launcher.nodeId, { transcript });
    return { ...run, transcript };
  }

  /**
   * A new run of an existing intent: `checkpoint` for a retry or resume (goes on from the last
   * run's transcript), `start` for a regenerate (starts over from the message).
   */
  async next(
    intentId: string,
    sessionId: string,
    userId: string,
    by: AnsweredBy = {},
    from: 'checkpoint' | 'start' = 'checkpoint',
  ): Promise<RunSpec> {
    if (await this.store.activeRun(sessionId))
      throw new DomainError('SESSION_BUSY', 'A run of this session is still going');
    // Beyond the cap the caller's whole transaction rolls back (a retry offer stays open).
    await this.quotas.assertRunSlot(userId);
    // A resumed intent's run must not leave another intent's offer open beside its own dialog.
    await this.declineOffers(sessionId, { connectionId: by.connectionId }, intentId);
    const { run, checkpoint } = await this.attempts.startNextAttempt(
      intentId,
      this.launcher.nodeId,
      from,
    );
    return { ...run, transcript: checkpoint.transcript as TranscriptMessage[] };
  }

  launch(spec: RunSpec): string {
    this.launcher.launch(spec);
    return spec.runId;
  }

  /** Declines every retry offer of the session but `keepIntentId`'s (a run is starting). */
  async declineOffers(sessionId: string, by: AnsweredBy, keepIntentId?: string) {
    for (const offer of await this.store.pendingOf({ sessionId, kind: 'retry' }))
      if (offer.intent_id !== keepIntentId)
        await this.interactions.declineInTx(sessionId, offer.id, by);
  }
}

/** SESSION_BUSY as a new message gets it (from the check, or from a concurrent start's conflict). */
export const busyForMessage = (): DomainError =>
  new DomainError(
    'SESSION_BUSY',
    'A run of this session is still going; answer or cancel it first',
  );

/** Maps the active-run unique index (a concurrent start) to SESSION_BUSY. */
export function busyOnConflict(err: unknown): never {
  if (sqlState(err) === PG_UNIQUE_VIOLATION)
    throw new DomainError('SESSION_BUSY', 'A run of this session is still going');
  throw err;
}
