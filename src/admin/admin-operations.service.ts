import { Inject, Injectable, Logger } from '@nestjs/common';
import { LiveRuns } from '../runs/live-runs.js';
import { CancelRunUseCase } from '../agent/usecases/cancel-run.usecase.js';
import { mapPage } from '../common/page.js';
import { DomainError } from '../common/domain-error.js';
import { isUuid } from '../common/uuid.js';
import { UsageService, type UsageRow } from '../quotas/usage.service.js';
import { NodeStatsService } from './node-stats.service.js';
import { RunsRepository, type RunRow } from '../runs/runs.repository.js';
import { SessionsRepository } from '../sessions/sessions.repository.js';
import { SessionsService } from '../sessions/sessions.service.js';
import type { RunStatus, SessionStatus, SessionView } from '../contracts/session.js';
import type { AdminRunView, Stats } from '../contracts/rest-admin.js';

export type { AdminRunView };

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

/** Admin views and actions on sessions, runs, usage and the nodes. */
@Injectable()
export class AdminOperationsService {
  private readonly logger = new Logger(AdminOperationsService.name);

  constructor(
    @Inject(SessionsService) private readonly sessions: SessionsService,
    @Inject(SessionsRepository) private readonly sessionsRepo: SessionsRepository,
    @Inject(RunsRepository) private readonly runs: RunsRepository,
    @Inject(CancelRunUseCase) private readonly cancel: CancelRunUseCase,
    @Inject(UsageService) private readonly usage: UsageService,
    @Inject(LiveRuns) private readonly liveRuns: LiveRuns,
    @Inject(NodeStatsService) private readonly nodeStats: NodeStatsService,
  ) {}

  listSessions(q: {
    userId?: string;
    status?: SessionStatus;
    limit?: number;
    cursor?: string;
  }): Promise<{ items: (SessionView & { userId: string })[]; nextCursor: string | null }> {
    return this.sessions.listAll({ ...q, limit: q.limit ?? 50 });
  }

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
    if (run.status !== 'running' && run.status !== 'awaiting_input') {
      throw new DomainError('CONFLICT', `The run is ${run.status}, not running`);
    }
    const result = await this.cancel.cancelInSession(run.session_id, 'admin');
    this.logger.log(
      { actorId, runId, sessionId: run.session_id, userId: run.user_id },
      'run cancelled by admin',
    );
    return result;
  }

  async usageReport(q: {
    userId?: string;
    from?: string;
    to?: string;
  }): Promise<{ items: UsageRow[] }> {
    if (q.from && q.to && q.from > q.to) {
      throw DomainError.validation('from must not be after to', [
        { field: 'from', problems: ['must not be after to'] },
      ]);
    }
    return { items: await this.usage.report(q) };
  }

  async stats(): Promise<Stats> {
    const [totals, byNode, counts] = await Promise.all([
      this.sessionsRepo.totals(),
      this.runs.activeByNode(),
      this.nodeStats.all(),
    ]);
    const me = this.liveRuns.nodeId;
    // Nodes with runs but no published counts (gone, or Redis unreachable) show null.
    const ids = [me, ...[...counts.keys(), ...byNode.map((n) => n.nodeId)].filter((i) => i !== me)];
    const nodes = [...new Set(ids)].map((nodeId) => ({
      nodeId,
      activeRuns: byNode.find((n) => n.nodeId === nodeId)?.activeRuns ?? 0,
      connections: counts.get(nodeId)?.connections ?? null,
      watchedSessions: counts.get(nodeId)?.watchedSessions ?? null,
    }));
    return {
      nodeId: me,
      nodes,
      totals: {
        ...totals,
        activeRuns: byNode.reduce((n, x) => n + x.activeRuns, 0),
        connections: nodes.reduce((n, x) => n + (x.connections ?? 0), 0),
      },
    };
  }
}
