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
    if (asked === undefined)
      return (await this.store.head(sessionId)) ?? (await this.store.newestRan(sessionId));
    if (asked === null) return null;
    return (await this.followable(sessionId, asked, 'followed')).id;
  }

  /** An intent of the session that ran: NOT_FOUND when unknown, CONFLICT when it never ran. */
  private async followable(sessionId: string, intentId: string, what: string) {
    const intent = await this.store.branchIntent(sessionId, intentId.toLowerCase());
    if (!intent) throw DomainError.notFound('Intent');
    if (intent.status === 'queued')
      throw new DomainError('CONFLICT', `A queued intent cannot be ${what}; it has not run yet`);
    if (!intent.ran) throw new DomainError('CONFLICT', `This message was taken back before it ran`);
    return intent;
  }

  /**
   * After queued intents left without running: a head among them goes back to the nearest
   * intent that still belongs in the conversation (`head_changed`), in the caller's transaction.
   */
  async repairHead(sessionId: string, opts: { activity?: boolean } = {}): Promise<void> {
    const head = await this.store.head(sessionId);
    if (!head) return;
    const kept = await this.store.nearestKept(head);
    if (kept === head) return;
    await this.store.setHead(sessionId, kept);
    if (kept)
      await this.history.append(
        sessionId,
        [{ type: 'head_changed', intentId: kept, data: { intentId: kept } }],
        opts,
      );
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
        const intent = await this.followable(sessionId, intentId, 'checked out');
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
