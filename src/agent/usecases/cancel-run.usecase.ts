import { Inject, Injectable } from '@nestjs/common';
import { DomainError } from '../../common/domain-error.js';
import type { CancelReason } from '../../contracts/events.js';
import { RunControlService } from '../../runs/run-control.service.js';
import { SessionsService } from '../../sessions/sessions.service.js';

/**
 * run:cancel, its REST twin and the admin cancel: stops the session's active run. Nothing else:
 * with no run going the answer is CONFLICT and nothing changes (a retry on offer stays open).
 * In a closed session: SESSION_CLOSED, also when the close committed after the first check.
 */
@Injectable()
export class CancelRunUseCase {
  constructor(
    @Inject(SessionsService) private readonly sessions: SessionsService,
    @Inject(RunControlService) private readonly runControl: RunControlService,
  ) {}

  async execute(cmd: { userId: string; sessionId: string }): Promise<{ runId: string }> {
    const session = await this.sessions.requireActive(cmd.userId, cmd.sessionId);
    try {
      return await this.cancelInSession(session.id, 'user');
    } catch (err) {
      // Nothing left to cancel because a close committed meanwhile (it cancelled the run itself,
      // under the session lock): the session's state is the answer, read again after that commit.
      if (err instanceof DomainError && err.code === 'CONFLICT')
        await this.sessions.requireActive(cmd.userId, session.id);
      throw err;
    }
  }

  async cancelInSession(sessionId: string, reason: CancelReason): Promise<{ runId: string }> {
    // Acked only when this cancel ended the run (task_cancelled is in the log); a run that
    // completed or failed first is not "cancelled".
    const runId = await this.runControl.cancelActive(sessionId, reason);
    if (!runId) throw new DomainError('CONFLICT', 'Nothing is running in this session');
    return { runId };
  }
}
