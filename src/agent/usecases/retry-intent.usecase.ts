import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { DomainError } from '../../common/domain-error.js';
import { Database } from '../../database/database.js';
import { PG_UNIQUE_VIOLATION, sqlState } from '../../database/sql-executor.js';
import type { TranscriptMessage } from '../providers/provider.js';
import { AgentRepository, type Checkpoint } from '../agent.repository.js';
import { OrchestratorService } from '../orchestrator.service.js';
import { QuotaGuard } from '../../quotas/quota-guard.service.js';

/**
 * A new run of an existing intent (retry after a failure, resume after expiry or interruption):
 * attempt = last attempt + 1, starting from the last run's checkpointed transcript.
 */
@Injectable()
export class RetryIntentUseCase {
  constructor(
    @Inject(Database) private readonly db: Database,
    @Inject(AgentRepository) private readonly repo: AgentRepository,
    @Inject(OrchestratorService) private readonly orchestrator: OrchestratorService,
    @Inject(QuotaGuard) private readonly quotas: QuotaGuard,
  ) {}

  async execute(intentId: string, sessionId: string, userId: string): Promise<string> {
    const runId = randomUUID();
    let spec: { attempt: number; transcript: TranscriptMessage[] };
    try {
      spec = await this.db.transaction(async (tx) => {
        const intent = await this.repo.lockIntent(intentId, tx);
        if (!intent) throw DomainError.notFound('Intent');
        const last = await this.repo.lastRun(intentId, tx);
        const checkpoint = (last?.checkpoint as Checkpoint | null) ?? {
          transcript: [{ role: 'user', content: intent.content }],
        };
        const attempt = (last?.attempt ?? 0) + 1;
        await this.repo.setIntentStatus(intentId, ['active', 'abandoned'], 'active', tx);
        await this.quotas.assertCanStartRun(tx, userId);
        await this.orchestrator.newRunRow(
          { id: runId, intentId, sessionId, userId, attempt, checkpoint },
          tx,
        );
        return { attempt, transcript: checkpoint.transcript };
      });
    } catch (err) {
      if (sqlState(err) === PG_UNIQUE_VIOLATION) {
        throw new DomainError('SESSION_BUSY', 'A run of this session is still going');
      }
      throw err;
    }
    this.orchestrator.launch({ runId, intentId, sessionId, userId, ...spec });
    return runId;
  }
}
