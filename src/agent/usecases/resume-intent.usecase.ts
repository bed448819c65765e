import { Inject, Injectable } from '@nestjs/common';
import { DomainError } from '../../common/domain-error.js';
import { isUuid } from '../../common/uuid.js';
import { HistoryService } from '../../history/history.service.js';
import { QuotaPolicy } from '../../quotas/quota-policy.service.js';
import { InteractionLifecycle } from '../../runs/interaction-lifecycle.service.js';
import { RunsStore } from '../../runs/runs.store.js';
import { assertOpen, SessionsService } from '../../sessions/sessions.service.js';
import { busyOnConflict, RunStarts } from './run-starts.js';

/**
 * intent:resume: a new run of an `abandoned` intent, or of one whose last run was `interrupted`
 * (a retry offered after the interruption is taken as accepted). CONFLICT for any other state.
 * Checked and started in one session transaction, so a message sent meanwhile (which declines
 * the retry offer) and the resume cannot both win. Another intent's retry offer still open is
 * declined in that transaction (RunStarts.next): one dialog at a time.
 */
@Injectable()
export class ResumeIntentUseCase {
  constructor(
    @Inject(SessionsService) private readonly sessions: SessionsService,
    @Inject(RunsStore) private readonly store: RunsStore,
    @Inject(InteractionLifecycle) private readonly interactions: InteractionLifecycle,
    @Inject(HistoryService) private readonly history: HistoryService,
    @Inject(QuotaPolicy) private readonly quotas: QuotaPolicy,
    @Inject(RunStarts) private readonly starts: RunStarts,
  ) {}

  async execute(cmd: {
    userId: string;
    sessionId: string;
    intentId: string;
    connectionId?: string;
  }): Promise<string> {
    const session = await this.sessions.requireActive(cmd.userId, cmd.sessionId);
    if (!isUuid(cmd.intentId)) throw DomainError.notFound('Intent');
    await this.quotas.assertTokensLeft(cmd.userId);
    const spec = await this.history
      .transaction(session.id, async (locked) => {
        // Closed since the check above: a closed session runs nothing.
        assertOpen(locked);
        const intent = await this.store.findIntent(cmd.intentId, true);
        if (!intent || intent.session_id !== session.id) throw DomainError.notFound('Intent');
        const last = await this.store.lastRun(intent.id);
        const resumable =
          intent.status === 'abandoned' ||
          (intent.status === 'active' && last?.status === 'interrupted');
        if (!resumable) {
          throw new DomainError(
            'CONFLICT',
            `Only an abandoned or interrupted intent can be resumed; this one is ${intent.status}` +
              (last ? ` (last run ${last.status})` : ''),
          );
        }
        for (const open of await this.store.pendingOf({ intentId: intent.id }))
          await this.interactions.resolveInTx(session.id, open.id, 'retry', cmd);
        return this.starts.next(intent.id, session.id, cmd.userId, cmd);
      })
      .catch(busyOnConflict);
    return this.starts.launch(spec);
  }
}
