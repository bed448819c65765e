import { Inject, Injectable } from '@nestjs/common';
import { DomainError } from '../../common/domain-error.js';
import { FaultPoints } from '../../common/fault-points.js';
import { isUuid } from '../../common/uuid.js';
import { type AnsweredRow, RunsStore } from '../../runs/runs.store.js';
import { SessionsService } from '../../sessions/sessions.service.js';

/**
 * Finds the question an answer is for: in the user's active session (SESSION_CLOSED once closed),
 * NOT_FOUND for another session's or an unknown id, INTERACTION_RESOLVED once answered.
 */
@Injectable()
export class QuestionLookup {
  constructor(
    @Inject(SessionsService) private readonly sessions: SessionsService,
    @Inject(RunsStore) private readonly store: RunsStore,
    @Inject(FaultPoints) private readonly faults: FaultPoints,
  ) {}

  async open(
    userId: string,
    sessionId: string,
    interactionId: string,
  ): Promise<{ session: { id: string }; row: AnsweredRow }> {
    // A closed session's questions were all resolved by its close; answering is SESSION_CLOSED.
    const session = await this.sessions.requireActive(userId, sessionId);
    await this.faults.hit('answer.checked');
    const row = isUuid(interactionId) ? await this.store.findInteraction(interactionId) : undefined;
    if (!row || row.session_id !== session.id) throw DomainError.notFound('Interaction');
    if (row.resolved_at) {
      // Resolved by a close that committed after the check above (a close resolves every open
      // question in the transaction that closes the session): the session's state is the answer.
      await this.sessions.requireActive(userId, session.id);
      throw new DomainError(
        'INTERACTION_RESOLVED',
        `This question was already answered (${row.outcome})`,
      );
    }
    return { session, row };
  }
}
