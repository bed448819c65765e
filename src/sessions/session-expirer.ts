import { Inject, Injectable, Logger } from '@nestjs/common';
import { FaultPoints } from '../common/fault-points.js';
import { HistoryService } from '../history/history.service.js';
import { RunLifecycle } from '../runs/run-lifecycle.service.js';
import { RunControlService } from '../runs/run-control.service.js';
import { SessionsRepository } from './sessions.repository.js';

/**
 * Expires one idle session (SessionExpiryService finds them): claims the expiry, cancels the
 * active run as stored (reason `expired`), writes `session_expired` and drops the session's
 * in-memory state. False when the session was not idle any more or somebody else expired it.
 */
@Injectable()
export class SessionExpirer {
  // The sweep's name, as before this was split from it: log searches keep working.
  private readonly logger = new Logger('SessionExpiryService');

  constructor(
    @Inject(SessionsRepository) private readonly sessions: SessionsRepository,
    @Inject(RunControlService) private readonly runControl: RunControlService,
    @Inject(HistoryService) private readonly history: HistoryService,
    @Inject(FaultPoints) private readonly faults: FaultPoints,
    @Inject(RunLifecycle) private readonly lifecycle: RunLifecycle,
  ) {}

  /**
   * One transaction under the session row lock: the claim, the cancel of the active run (as
   * stored) and session_expired. A send waits for the lock, so it is either before the claim
   * (the session is not idle: no expiry) or after the commit (its run is not touched).
   */
  async expire(sessionId: string, cutoff: Date): Promise<boolean> {
    const done = await this.history.transaction(sessionId, async () => {
      const claimed = await this.sessions.claimExpiry(sessionId, cutoff);
      if (!claimed) return undefined;
      await this.faults.hit('expiry.claimed');
      const runId = await this.lifecycle.cancelSessionInTx(sessionId, 'expired');
      const idleMs = Date.now() - claimed.lastActivityAt.getTime();
      await this.history.append(sessionId, [{ type: 'session_expired', data: { idleMs } }], {
        activity: false,
      });
      return { runId, idleMs };
    });
    if (!done) return false;
    // A run of this session executing here lost its state: it stops without writing.
    if (done.runId) this.runControl.abandonLive(sessionId);
    this.history.release(sessionId);
    this.logger.log({ sessionId, runId: done.runId, idleMs: done.idleMs }, 'session expired');
    return true;
  }
}
