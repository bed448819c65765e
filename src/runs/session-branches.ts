import { Inject, Injectable } from '@nestjs/common';
import { DomainError } from '../common/domain-error.js';
import { isUuid } from '../common/uuid.js';
import { HistoryService } from '../history/history.service.js';
import { QueueStore } from './queue.store.js';
import { RunsStore } from './runs.store.js';

/**
 * The conversation tree of a session: every intent follows a parent (`parentIntentId`, null for
 * a conversation's first), and the session has a head, the intent a new message follows by
 * default (the one most recently sent, regenerated or checked out). Nothing is deleted or
 * rewritten: a branch is what the parent links in the log say.
 */
@Injectable()
export class SessionBranches {
  constructor(
    @Inject(QueueStore) private readonly store: QueueStore,
    @Inject(RunsStore) private readonly runs: RunsStore,
    @Inject(HistoryService) private readonly history: HistoryService,
  ) {}

  /**
   * The parent of a new message, in the caller's session transaction: the one asked for (null:
   * the very start), which must be an intent of this session that is not queued, or else the
   * head.
   */
  async parentFor(sessionId: string, asked: string | null | undefined): Promise<string | null> {
    if (asked === undefined) return this.store.head(sessionId);
    if (asked === null) return null;
    const intent = await this.store.branchIntent(sessionId, asked.toLowerCase());
    if (!intent) throw DomainError.notFound('Intent');
    if (intent.status === 'queued')
      throw new DomainError('CONFLICT', 'A queued intent cannot be followed; it has not run yet');
    return intent.id;
  }

  /** The head moves to a new intent (sent, or regenerated), in the caller's transaction. */
  moveHead(sessionId: string, intentId: string): Promise<void> {
    return this.store.setHead(sessionId, intentId);
  }

  /**
   * `session:checkout`: the head moves to an intent of the session (`head_changed`), so the next
   * message follows it; CONFLICT while a run of the session is active or for a queued intent.
   */
  async checkout(sessionId: string, intentId: string, userId: string): Promise<string> {
    if (!isUuid(sessionId)) throw DomainError.notFound('Session');
    if (!isUuid(intentId)) throw DomainError.notFound('Intent');
    return this.history.transaction(
      sessionId,
      async (locked) => {
        if (locked?.userId !== userId) throw DomainError.notFound('Session');
        if (locked.status !== 'active')
          throw new DomainError('SESSION_CLOSED', 'This session is closed');
        const intent = await this.store.branchIntent(sessionId, intentId.toLowerCase());
        if (!intent) throw DomainError.notFound('Intent');
        if (intent.status === 'queued')
          throw new DomainError('CONFLICT', 'A queued intent cannot be checked out');
        if (await this.runs.activeRun(sessionId))
          throw new DomainError('CONFLICT', 'A run of this session is going; wait or cancel it');
        if ((await this.store.head(sessionId)) !== intent.id) {
          await this.store.setHead(sessionId, intent.id);
          await this.history.append(sessionId, [
            { type: 'head_changed', intentId: intent.id, data: { intentId: intent.id } },
          ]);
        }
        return intent.id;
      },
      userId,
    );
  }
}
