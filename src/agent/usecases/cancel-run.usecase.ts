import { Inject, Injectable } from '@nestjs/common';
import { DomainError } from '../../common/domain-error.js';
import type { CancelReason } from '../../contracts/events.js';
import { RunControlService } from '../../sessions/run-control.service.js';
import { RunsRepository } from '../../sessions/runs.repository.js';
import { SessionsService } from '../../sessions/sessions.service.js';

/** run:cancel, its REST twin and the admin cancel: stops the session's active run. */
@Injectable()
export class CancelRunUseCase {
  constructor(
    @Inject(SessionsService) private readonly sessions: SessionsService,
    @Inject(RunsRepository) private readonly runs: RunsRepository,
    @Inject(RunControlService) private readonly runControl: RunControlService,
  ) {}

  async execute(cmd: { userId: string; sessionId: string }): Promise<{ runId: string }> {
    const session = await this.sessions.requireOwned(cmd.userId, cmd.sessionId);
    return this.cancelInSession(session.id, 'user');
  }

  async cancelInSession(sessionId: string, reason: CancelReason): Promise<{ runId: string }> {
    const active = await this.runs.activeRun(sessionId);
    if (!active) throw new DomainError('CONFLICT', 'Nothing is running in this session');
    const runId = (await this.runControl.cancelActive(sessionId, reason)) ?? active.id;
    return { runId };
  }
}
