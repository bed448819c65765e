import { Inject, Injectable } from '@nestjs/common';
import { mapPage } from '../common/page.js';
import { DomainError } from '../common/domain-error.js';
import { isUuid } from '../common/uuid.js';
import type { SessionEvent } from '../contracts/events.js';
import type { LockedSession } from '../history/history.repository.js';
import { HistoryService, MAX_REPLAY_LIMIT } from '../history/history.service.js';
import { RunsRepository, toInteractionView, toRunView } from '../runs/runs.repository.js';
import { QueueStore } from '../runs/queue.store.js';
import { type SessionRow, SessionsRepository, toSessionView } from './sessions.repository.js';
import type {
  SessionStateView,
  SessionStatus,
  SessionView,
  SessionWithState,
} from '../contracts/session.js';

/**
 * SESSION_CLOSED unless the session is active. Checked again under the session row lock by
 * whatever starts a run or resolves a question, so nothing lands after a close that committed
 * meanwhile.
 */
export function assertOpen(session: Pick<LockedSession, 'status'> | undefined): void {
  if (session && session.status !== 'active')
    throw new DomainError('SESSION_CLOSED', 'This session is closed');
}

@Injectable()
export class SessionsService {
  constructor(
    @Inject(SessionsRepository) private readonly sessions: SessionsRepository,
    @Inject(RunsRepository) private readonly runs: RunsRepository,
    @Inject(QueueStore) private readonly queue: QueueStore,
    @Inject(HistoryService) private readonly history: HistoryService,
  ) {}

  /**
   * The session if `userId` owns it. Another user's session, a malformed id and a missing session
   * are the same NOT_FOUND, so existence is never leaked.
   */
  async requireOwned(userId: string, sessionId: string): Promise<SessionRow> {
    const row = isUuid(sessionId) ? await this.sessions.findById(sessionId) : undefined;
    if (!row || row.user_id !== userId) throw DomainError.notFound('Session');
    return row;
  }

  /** Like requireOwned, and the session must be active (SESSION_CLOSED otherwise). */
  async requireActive(userId: string, sessionId: string): Promise<SessionRow> {
    const row = await this.requireOwned(userId, sessionId);
    assertOpen(row);
    return row;
  }

  async list(
    userId: string,
    q: { status?: SessionStatus; limit?: number; cursor?: string },
  ): Promise<{ items: SessionView[]; nextCursor: string | null }> {
    return this.pageOf(userId, q, toSessionView);
  }

  /** Every user's sessions (admin), each with its owner. */
  async listAll(q: {
    userId?: string;
    status?: SessionStatus;
    limit?: number;
    cursor?: string;
  }): Promise<{ items: (SessionView & { userId: string })[]; nextCursor: string | null }> {
    return this.pageOf(q.userId, q, (r) => ({ ...toSessionView(r), userId: r.user_id }));
  }

  private async pageOf<T extends SessionView>(
    userId: string | undefined,
    q: { status?: SessionStatus; limit?: number; cursor?: string },
    view: (r: SessionRow) => T,
  ): Promise<{ items: T[]; nextCursor: string | null }> {
    const page = await this.sessions.list({
      userId,
      status: q.status,
      limit: q.limit ?? 20,
      cursor: q.cursor,
    });
    return mapPage(page, view);
  }

  /** Whether a session exists at all (admin routes answer NOT_FOUND for unknown ids). */
  async requireExisting(sessionId: string): Promise<SessionRow> {
    const row = isUuid(sessionId) ? await this.sessions.findById(sessionId) : undefined;
    if (!row) throw DomainError.notFound('Session');
    return row;
  }

  async get(userId: string, sessionId: string): Promise<SessionWithState> {
    const row = await this.requireOwned(userId, sessionId);
    return { ...toSessionView(row), state: await this.state(row.id) };
  }

  async state(sessionId: string): Promise<SessionStateView> {
    const [run, interaction, headIntentId, queued] = await Promise.all([
      this.runs.activeRun(sessionId),
      this.runs.pendingInteraction(sessionId),
      this.queue.head(sessionId),
      this.queue.queued(sessionId),
    ]);
    return {
      run: run ? toRunView(run) : null,
      pendingInteraction: interaction ? toInteractionView(interaction) : null,
      headIntentId,
      queue: queued.map((q) => ({
        intentId: q.id,
        content: q.content,
        createdAt: q.created_at.toISOString(),
      })),
    };
  }

  async events(
    userId: string,
    sessionId: string,
    afterSeq: number,
    limit: number,
  ): Promise<{ items: SessionEvent[]; hasMore: boolean }> {
    await this.requireOwned(userId, sessionId);
    return this.page(sessionId, afterSeq, limit);
  }

  /** One page of the log after `afterSeq`, with whether more follows. */
  async page(
    sessionId: string,
    afterSeq: number,
    limit: number,
  ): Promise<{ items: SessionEvent[]; hasMore: boolean }> {
    const capped = Math.min(limit, MAX_REPLAY_LIMIT);
    const rows = await this.history.listAfter(sessionId, afterSeq, capped + 1);
    return { items: rows.slice(0, capped), hasMore: rows.length > capped };
  }
}
