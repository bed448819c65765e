import { Inject, Injectable } from '@nestjs/common';
import { DomainError } from '../../common/domain-error.js';
import { isUuid } from '../../common/uuid.js';
import type { SessionView } from '../../contracts/session.js';
import { SessionNotifier } from '../session-notifier.js';
import { SessionsRepository, toSessionView } from '../sessions.repository.js';

/**
 * PATCH /sessions/:id: a new title for one of the user's sessions, open or closed (a closed one's
 * history stays readable). One statement, so nothing to lock; not activity, so it does not move
 * the session up the list. Once committed, the user's other tabs hear of it (SessionNotifier).
 */
@Injectable()
export class RenameSessionUseCase {
  constructor(
    @Inject(SessionsRepository) private readonly sessions: SessionsRepository,
    @Inject(SessionNotifier) private readonly notifier: SessionNotifier,
  ) {}

  async execute(userId: string, sessionId: string, title: string): Promise<SessionView> {
    // Another user's session, a malformed id and a missing session are the same NOT_FOUND.
    const row = isUuid(sessionId)
      ? await this.sessions.rename(sessionId, userId, title)
      : undefined;
    if (!row) throw DomainError.notFound('Session');
    const session = toSessionView(row);
    this.notifier.publish({ userId, action: 'updated', session });
    return session;
  }
}
