import { Inject, Injectable, Logger } from '@nestjs/common';
import { CancelRunUseCase } from '../agent/usecases/cancel-run.usecase.js';
import { mapPage } from '../common/page.js';
import { DomainError } from '../common/domain-error.js';
import { isUuid } from '../common/uuid.js';
import { RunsRepository, type RunRow } from '../runs/runs.repository.js';
import { isActiveRunStatus, type RunStatus } from '../contracts/session.js';
import type { AdminRunView } from '../contracts/rest-admin.js';

const toAdminRun = (r: RunRow): AdminRunView => ({
  id: r.id,
  intentId: r.intent_id,
  sessionId: r.session_id,
  userId: r.user_id,
  attempt: r.attempt,
  status: r.status,
  nodeId: r.node_id,
  startedAt: new Date(r.started_at).toISOString(),
  endedAt: r.ended_at ? new Date(r.ended_at).toISOString() : null,
});

/** Admin views and actions on runs: every user's runs, and cancelling one wherever it runs. */
@Injectable()
export class AdminRunsService {
  private readonly logger = new Logger(AdminRunsService.name);

  constructor(
    @Inject(RunsRepository) private readonly runs: RunsRepository,
    @Inject(CancelRunUseCase) private readonly cancel: CancelRunUseCase,
  ) {}

  async listRuns(q: {
    status?: RunStatus;
    limit?: number;
    cursor?: string;
  }): Promise<{ items: AdminRunView[]; nextCursor: string | null }> {
    const page = await this.runs.list({
      status: q.status,
      limit: q.limit ?? 50,
      cursor: q.cursor,
    });
    return mapPage(page, toAdminRun);
  }

  async cancelRun(actorId: string, runId: string): Promise<{ runId: string }> {
    const run = isUuid(runId) ? await this.runs.findById(runId) : undefined;
    if (!run) throw DomainError.notFound('Run');
    if (!isActiveRunStatus(run.status)) {
      throw new DomainError('CONFLICT', `The run is ${run.status}, not running`);
    }
    const result = await this.cancel.cancelInSession(run.session_id, 'admin');
    this.logger.log(
      { actorId, runId, sessionId: run.session_id, userId: run.user_id },
      'run cancelled by admin',
    );
    return result;
  }
}
