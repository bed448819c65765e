import { Inject, Injectable } from '@nestjs/common';
import { DomainError } from '../../common/domain-error.js';
import { PG_UNIQUE_VIOLATION, sqlState } from '../../database/sql-executor.js';
import { QuotaPolicy } from '../../quotas/quota-policy.service.js';
import { type AnsweredBy, InteractionLifecycle } from '../../runs/interaction-lifecycle.service.js';
import { RunLifecycle } from '../../runs/run-lifecycle.service.js';
import type { RunRef } from '../../runs/run-ref.js';
import { RunsStore } from '../../runs/runs.store.js';
import type { TranscriptMessage } from '../../runs/transcript.js';
import type { RunSpec } from '../../runs/run-spec.js';
import { RunLauncher } from '../../runs/run-launcher.js';

/**
 * Starting runs: `first` (a new intent's first run, message:send) and `next` (a new run of an
 * existing intent: retry after a failure, resume after expiry or interruption; attempt = last
 * attempt + 1, from the last run's checkpointed transcript) run inside the caller's session
 * transaction, `launch` after its commit. A session shows one dialog at a time: a start declines
 * (`no_retry`, its intent `failed`) another intent's retry offer still open.
 */
@Injectable()
export class RunStarts {
  constructor(
    @Inject(RunLifecycle) private readonly lifecycle: RunLifecycle,
    @Inject(RunsStore) private readonly store: RunsStore,
    @Inject(RunLauncher) private readonly launcher: RunLauncher,
    @Inject(QuotaPolicy) private readonly quotas: QuotaPolicy,
    @Inject(InteractionLifecycle) private readonly interactions: InteractionLifecycle,
  ) {}

  /**
   * A new intent and its first run (one statement): SESSION_BUSY while a run is going, then the
   * daily quota and the concurrent-runs cap; a retry offer still open is declined.
   */
  async first(run: RunRef, content: string, by: AnsweredBy): Promise<RunSpec> {
    if (await this.store.activeRun(run.sessionId)) throw busyForMessage();
    await this.quotas.admitRun(run.userId);
    const transcript: TranscriptMessage[] = [{ role: 'user', content }];
    await this.declineOffers(run.sessionId, by);
    await this.lifecycle.startIntent(run, content, this.launcher.nodeId, { transcript });
    return { ...run, transcript };
  }

  async next(
    intentId: string,
    sessionId: string,
    userId: string,
    by: AnsweredBy = {},
  ): Promise<RunSpec> {
    if (await this.store.activeRun(sessionId))
      throw new DomainError('SESSION_BUSY', 'A run of this session is still going');
    // Beyond the cap the caller's whole transaction rolls back (a retry offer stays open).
    await this.quotas.assertRunSlot(userId);
    // A resumed intent's run must not leave another intent's offer open beside its own dialog.
    await this.declineOffers(sessionId, { connectionId: by.connectionId }, intentId);
    const { run, checkpoint } = await this.lifecycle.startNextAttempt(
      intentId,
      this.launcher.nodeId,
    );
    return { ...run, transcript: checkpoint.transcript as TranscriptMessage[] };
  }

  launch(spec: RunSpec): string {
    this.launcher.launch(spec);
    return spec.runId;
  }

  private async declineOffers(sessionId: string, by: AnsweredBy, keepIntentId?: string) {
    for (const offer of await this.store.pendingOf({ sessionId, kind: 'retry' }))
      if (offer.intent_id !== keepIntentId)
        await this.interactions.resolveInTx(sessionId, offer.id, 'no_retry', by);
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
