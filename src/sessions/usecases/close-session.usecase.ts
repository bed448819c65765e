import { Inject, Injectable, Logger } from '@nestjs/common';
import { DomainError } from '../../common/domain-error.js';
import { FaultPoints } from '../../common/fault-points.js';
import { isUuid } from '../../common/uuid.js';
import { HistoryService } from '../../history/history.service.js';
import { RemindersRepository } from '../../reminders/reminders.repository.js';
import { RunLifecycle } from '../../runs/run-lifecycle.service.js';
import { LiveRunStopper } from '../../runs/live-run-stopper.js';
import { SessionNotifier } from '../session-notifier.js';
import { SessionsRepository, toSessionView } from '../sessions.repository.js';

export interface CloseSession {
  sessionId: string;
  by: 'user' | 'admin';
  /** The user closing their own session: another user's is NOT_FOUND, like a missing one. */
  ownerId?: string;
  /** The operator closing it (by `admin`), for the log. */
  actorId?: string;
}

/**
 * DELETE /sessions/:id and the admin close. Closes the session in ONE transaction under the
 * session row lock: status `closed`, its scheduled reminders `cancelled`, the active run cancelled
 * as stored (task_cancelled, reason `by`), every open interaction resolved `cancelled` with its
 * intent `cancelled`, then `session_closed`. All of it commits or none does, so a failed close
 * leaves the session as it was. Closing a closed session changes nothing, unless its log holds
 * no `session_closed` (a close of an older version that stopped half-way): then this one
 * completes it.
 *
 * After the commit, an execution of the session (which lost its run state in that transaction, so
 * every write of it is refused) is stopped without writing, here and on any other node, and the
 * owner's tabs hear of it (SessionNotifier).
 */
@Injectable()
export class CloseSessionUseCase {
  private readonly logger = new Logger(CloseSessionUseCase.name);

  constructor(
    @Inject(SessionsRepository) private readonly sessions: SessionsRepository,
    @Inject(HistoryService) private readonly history: HistoryService,
    @Inject(RunLifecycle) private readonly lifecycle: RunLifecycle,
    @Inject(RemindersRepository) private readonly reminders: RemindersRepository,
    @Inject(LiveRunStopper) private readonly stopper: LiveRunStopper,
    @Inject(FaultPoints) private readonly faults: FaultPoints,
    @Inject(SessionNotifier) private readonly notifier: SessionNotifier,
  ) {}

  /**
   * Returns whether this call closed (or completed) the session; closing a closed one is not an
   * error. NOT_FOUND when there is no such session (or, with `ownerId`, not theirs).
   */
  async execute(cmd: CloseSession): Promise<boolean> {
    const { sessionId, by } = cmd;
    // Another user's session, a malformed id and a missing session are the same NOT_FOUND.
    const notFound = (): DomainError => DomainError.notFound('Session');
    if (!isUuid(sessionId)) throw notFound();
    await this.faults.hit('session.close-requested');
    const done = await this.history.transaction(
      sessionId,
      async (locked) => {
        if (!locked) throw notFound();
        const closed = await this.sessions.close(sessionId);
        if (!closed && (await this.sessions.hasClosedEvent(sessionId))) return undefined;
        await this.faults.hit('session.closing');
        // A reminder firing now waits for this lock and then finds the session closed; one that
        // fired first keeps `fired` (its reminder_due is already before session_closed).
        const reminders = await this.reminders.cancelScheduledInSession(sessionId);
        // A per-session queue of intents is dropped here too, in this transaction (each queued
        // intent `intent_dequeued {reason: "closed"}` before session_closed), once sessions have one.
        // session_closed goes in the cancel's own append: text the run streamed meanwhile cannot
        // land between its task_cancelled and session_closed.
        const runId = await this.lifecycle.cancelSessionInTx(sessionId, by, [
          { type: 'session_closed', data: { by } },
        ]);
        return { userId: locked.userId, runId, reminders };
      },
      cmd.ownerId,
    );
    if (!done) return false;
    this.stopper.stopEverywhere(sessionId);
    this.history.release(sessionId);
    this.logger.log({ ...done, sessionId, by, actorId: cmd.actorId }, 'session closed');
    await this.announce(done.userId, sessionId);
    return true;
  }

  /** Tells the owner's tabs (SessionNotifier); the close stands whether or not this works. */
  private async announce(userId: string, sessionId: string): Promise<void> {
    try {
      const row = await this.sessions.findById(sessionId);
      if (row) this.notifier.publish({ userId, action: 'closed', session: toSessionView(row) });
    } catch (err) {
      this.logger.warn({ err, sessionId }, 'could not announce a closed session');
    }
  }
}
