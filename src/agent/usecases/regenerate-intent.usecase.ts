import { Inject, Injectable } from '@nestjs/common';
import { DomainError } from '../../common/domain-error.js';
import { isUuid } from '../../common/uuid.js';
import { HistoryService } from '../../history/history.service.js';
import { QuotaPolicy } from '../../quotas/quota-policy.service.js';
import { QueueStore } from '../../runs/queue.store.js';
import { RunsStore } from '../../runs/runs.store.js';
import { assertOpen, SessionsService } from '../../sessions/sessions.service.js';
import { busyOnConflict, RunStarts } from './run-starts.js';

const REGENERABLE = ['completed', 'failed', 'cancelled'];

/**
 * intent:regenerate: a new run of the head intent (the next attempt, started over from its
 * message), whose answer replaces the earlier one in the conversation memory; the earlier runs'
 * events stay in the log. Only the head, only once it ended (completed, failed, cancelled) and
 * ran at all (a dequeued intent is cancelled but never ran), and only while no run of the
 * session is active: CONFLICT otherwise. Checked and started in one session transaction.
 */
@Injectable()
export class RegenerateIntentUseCase {
  constructor(
    @Inject(SessionsService) private readonly sessions: SessionsService,
    @Inject(RunsStore) private readonly runs: RunsStore,
    @Inject(QueueStore) private readonly tree: QueueStore,
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
        assertOpen(locked);
        const intent = await this.tree.branchIntent(session.id, cmd.intentId.toLowerCase());
        if (!intent) throw DomainError.notFound('Intent');
        if ((await this.tree.head(session.id)) !== intent.id)
          throw new DomainError('CONFLICT', 'Only the head intent can be regenerated');
        if (!REGENERABLE.includes(intent.status) || !intent.ran)
          throw new DomainError(
            'CONFLICT',
            `Only a completed, failed or cancelled intent can be regenerated; this one is ${intent.status}`,
          );
        if (await this.runs.activeRun(session.id))
          throw new DomainError('CONFLICT', 'A run of this session is going; wait or cancel it');
        return this.starts.next(intent.id, session.id, cmd.userId, cmd, 'start');
      })
      .catch(busyOnConflict);
    return this.starts.launch(spec);
  }
}
