import { Inject, Injectable } from '@nestjs/common';
import { DomainError } from '../../common/domain-error.js';
import { PG_UNIQUE_VIOLATION, sqlState } from '../../database/sql-executor.js';
import { type AnsweredBy, InteractionLifecycle } from '../../runs/interaction-lifecycle.service.js';
import { RunLifecycle } from '../../runs/run-lifecycle.service.js';
import { RunsStore } from '../../runs/runs.store.js';
import type { TranscriptMessage } from '../../runs/transcript.js';
import type { RunSpec } from '../../runs/run-spec.js';
import { QuotaGuard } from '../../quotas/quota-guard.service.js';
import { RunLauncher } from '../../runs/run-launcher.js';

/**
 * A new run of an existing intent (retry after a failure, resume after expiry or interruption):
 * attempt = last attempt + 1, starting from the last run's checkpointed transcript. `start` runs
 * inside the caller's session transaction (with the answer or resume that decided it), `launch`
 * after its commit. A session shows one dialog at a time: `start` declines (`no_retry`, its
 * intent `failed`) a retry offer of another intent still open, as a new message does.
 */
@Injectable()
export class RetryIntentUseCase {
  constructor(
    @Inject(RunLifecycle) private readonly lifecycle: RunLifecycle,
    @Inject(RunsStore) private readonly store: RunsStore,
    @Inject(RunLauncher) private readonly launcher: RunLauncher,
    @Inject(QuotaGuard) private readonly quotas: QuotaGuard,
    @Inject(InteractionLifecycle) private readonly interactions: InteractionLifecycle,
  ) {}

  async start(
    intentId: string,
    sessionId: string,
    userId: string,
    by: AnsweredBy = {},
  ): Promise<RunSpec> {
    if (await this.store.activeRun(sessionId))
      throw new DomainError('SESSION_BUSY', 'A run of this session is still going');
    // Beyond the cap the caller's whole transaction rolls back (a retry offer stays open).
    await this.quotas.assertCanStartRun(userId);
    // A resumed intent's run must not leave another intent's offer open beside its own dialog.
    for (const offer of await this.store.pendingOf({ sessionId, kind: 'retry' }))
      if (offer.intent_id !== intentId)
        await this.interactions.resolveInTx(sessionId, offer.id, 'no_retry', {
          connectionId: by.connectionId,
        });
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
}

/** Maps the active-run unique index (a concurrent start) to SESSION_BUSY. */
export function busyOnConflict(err: unknown): never {
  if (sqlState(err) === PG_UNIQUE_VIOLATION)
    throw new DomainError('SESSION_BUSY', 'A run of this session is still going');
  throw err;
}
