import { Inject, Injectable } from '@nestjs/common';
import { LiveRuns } from '../runs/live-runs.js';
import { NodeStatsService } from './node-stats.service.js';
import { RunsRepository } from '../runs/runs.repository.js';
import { SessionsRepository } from '../sessions/sessions.repository.js';
import type { Stats } from '../contracts/rest-admin.js';

/** /admin/stats: the totals from the database and each node's live counts. */
@Injectable()
export class AdminStatsService {
  constructor(
    @Inject(SessionsRepository) private readonly sessionsRepo: SessionsRepository,
    @Inject(RunsRepository) private readonly runs: RunsRepository,
    @Inject(LiveRuns) private readonly liveRuns: LiveRuns,
    @Inject(NodeStatsService) private readonly nodeStats: NodeStatsService,
  ) {}

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
