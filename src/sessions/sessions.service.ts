import { Inject, Injectable, Logger } from '@nestjs/common';
import { ClusterBus } from '../cluster/cluster-bus.js';
import { decodeCursor } from '../common/cursor.js';
import { FaultPoints } from '../common/fault-points.js';
import { toPage } from '../common/page.js';
import { DomainError } from '../common/domain-error.js';
import { isUuid } from '../common/uuid.js';
import type { SessionEvent } from '../contracts/events.js';
import type { LockedSession } from '../history/history.repository.js';
import { HistoryService, MAX_REPLAY_LIMIT } from '../history/history.service.js';
import { RunLifecycle } from '../runs/run-lifecycle.service.js';
import { RunControlService } from './run-control.service.js';
import { RunsRepository, toInteractionView, toRunView } from './runs.repository.js';
import { type SessionRow, SessionsRepository, toSessionView } from './sessions.repository.js';
import type {
  SessionState,
  SessionStatus,
  SessionView,
  SessionWithState,
} from './session.types.js';

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
  private readonly logger = new Logger(SessionsService.name);

  constructor(
    @Inject(SessionsRepository) private readonly sessions: SessionsRepository,
    @Inject(RunsRepository) private readonly runs: RunsRepository,
    @Inject(HistoryService) private readonly history: HistoryService,
    @Inject(RunControlService) private readonly runControl: RunControlService,
    @Inject(RunLifecycle) private readonly lifecycle: RunLifecycle,
    @Inject(ClusterBus) private readonly cluster: ClusterBus,
    @Inject(FaultPoints) private readonly faults: FaultPoints,
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
    const limit = q.limit ?? 20;
    const rows = await this.sessions.list({
      userId,
      status: q.status,
      limit: limit + 1,
      after: decodeCursor(q.cursor),
    });
    const page = toPage(rows, limit, (last) => ({ t: last.cursor_at, id: last.id }));
    return { items: page.items.map(view), nextCursor: page.nextCursor };
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

  async state(sessionId: string): Promise<SessionState> {
    const [run, interaction] = await Promise.all([
      this.runs.activeRun(sessionId),
      this.runs.pendingInteraction(sessionId),
    ]);
    return {
      run: run ? toRunView(run) : null,
      pendingInteraction: interaction ? toInteractionView(interaction) : null,
    };
  }

  /** DELETE /sessions/:id: the session becomes closed; its active run is cancelled; history stays. */
  async close(userId: string, sessionId: string): Promise<void> {
    await this.requireOwned(userId, sessionId);
    await this.closeAs(sessionId, 'user');
  }

  /**
   * Closes any session (owner or admin) in ONE transaction under the session row lock: status
   * `closed`, the active run cancelled as stored (task_cancelled, reason `by`), every open
   * interaction resolved `cancelled` with its intent `cancelled`, then `session_closed`. All of it
   * commits or none does, so a failed close leaves the session as it was. Closing a closed
   * session changes nothing, unless its log does not end with `session_closed` (a close of an
   * older version that stopped half-way): then this one completes it.
   *
   * After the commit, an execution of the session (which lost its run state in that
   * transaction, so every write of it is refused) is stopped without writing, here and, over the
   * cluster bus, on any other node. Returns whether this call closed (or completed) it.
   */
  async closeAs(sessionId: string, by: 'user' | 'admin'): Promise<boolean> {
    const done = await this.history.transaction(sessionId, async (locked) => {
      if (!locked) return undefined;
      const closed = await this.sessions.close(sessionId);
      if (!closed && (await this.sessions.endsClosed(sessionId))) return undefined;
      await this.faults.hit('session.closing');
      // A per-session queue of intents is dropped here too, in this transaction (each queued
      // intent `intent_dequeued {reason: "closed"}` before session_closed), once sessions have one.
      // session_closed goes in the cancel's own append: text the run streamed meanwhile cannot
      // land between its task_cancelled and session_closed.
      const runId = await this.lifecycle.cancelSessionInTx(sessionId, by, [
        { type: 'session_closed', data: { by } },
      ]);
      return { userId: locked.userId, runId };
    });
    if (!done) return false;
    this.runControl.abandonLive(sessionId);
    this.cluster.publish({ kind: 'abandon', sessionId });
    this.history.release(sessionId);
    this.logger.log({ userId: done.userId, sessionId, by, runId: done.runId }, 'session closed');
    return true;
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
