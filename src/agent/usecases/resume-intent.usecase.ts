import { Inject, Injectable } from '@nestjs/common';
import { DomainError } from '../../common/domain-error.js';
import { isUuid } from '../../common/uuid.js';
import { HistoryService } from '../../history/history.service.js';
import { UsageService } from '../../quotas/usage.service.js';
import { RunsRepository } from '../../sessions/runs.repository.js';
import { SessionsService } from '../../sessions/sessions.service.js';
import { AgentRepository } from '../agent.repository.js';
import { RetryIntentUseCase } from './retry-intent.usecase.js';
import { interactionResolved } from '../../sessions/interaction-events.js';

/**
 * intent:resume: a new run of an `abandoned` intent, or of one whose last run was `interrupted`
 * (a retry offered after the interruption is taken as accepted). CONFLICT for any other state.
 */
@Injectable()
export class ResumeIntentUseCase {
  constructor(
    @Inject(SessionsService) private readonly sessions: SessionsService,
    @Inject(AgentRepository) private readonly repo: AgentRepository,
    @Inject(RunsRepository) private readonly runs: RunsRepository,
    @Inject(HistoryService) private readonly history: HistoryService,
    @Inject(UsageService) private readonly usage: UsageService,
    @Inject(RetryIntentUseCase) private readonly retry: RetryIntentUseCase,
  ) {}

  async execute(cmd: {
    userId: string;
    sessionId: string;
    intentId: string;
    connectionId?: string;
  }): Promise<string> {
    const session = await this.sessions.requireActive(cmd.userId, cmd.sessionId);
    const intent = isUuid(cmd.intentId) ? await this.repo.findIntent(cmd.intentId) : undefined;
    if (!intent || intent.session_id !== session.id) throw DomainError.notFound('Intent');
    const last = await this.repo.lastRun(intent.id);
    const resumable =
      intent.status === 'abandoned' ||
      (intent.status === 'active' && last?.status === 'interrupted');
    if (!resumable) {
      throw new DomainError(
        'CONFLICT',
        `Only an abandoned or interrupted intent can be resumed; this one is ${intent.status}` +
          (last ? ` (last run ${last.status})` : ''),
      );
    }
    await this.usage.assertWithinQuota(cmd.userId);
    for (const open of await this.repo.pendingOfIntent(intent.id)) {
      const won = await this.runs.resolveInteraction(
        open.id,
        'retry',
        cmd.connectionId ?? null,
        undefined,
      );
      if (won) {
        await this.history.append(session.id, [
          interactionResolved(open, 'retry', cmd.connectionId),
        ]);
      }
    }
    return this.retry.execute(intent.id, session.id, cmd.userId);
  }
}
