import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { LiveRuns } from '../runs/live-runs.js';
import { ChatConnections } from '../chat/chat-connections.js';
import { RedisConnections } from '../cluster/redis-connections.js';
import { PeriodicJob } from '../common/periodic-job.js';
import { PresenceService } from '../sessions/presence.service.js';

const PUBLISH_EVERY_MS = 5000;
/** A node that stopped publishing drops out of the stats after this long. */
const STATS_TTL_MS = 3 * PUBLISH_EVERY_MS;
const NODES_KEY = 'hitl:node-stats';
const nodeKey = (nodeId: string): string => `${NODES_KEY}:${nodeId}`;

export interface NodeCounts {
  connections: number;
  watchedSessions: number;
}

/**
 * Each node's live counts (sockets, watched sessions) for /admin/stats. With Redis every node
 * publishes its own every 5 s under a key that expires, and reads the others'; on one node there
 * is nothing to share.
 */
@Injectable()
export class NodeStatsService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(NodeStatsService.name);
  private readonly publishing = new PeriodicJob({
    name: 'node stats publish',
    everyMs: PUBLISH_EVERY_MS,
    run: () => this.publish(),
    logger: this.logger,
  });

  constructor(
    @Inject(RedisConnections) private readonly redis: RedisConnections,
    @Inject(LiveRuns) private readonly liveRuns: LiveRuns,
    @Inject(ChatConnections) private readonly connections: ChatConnections,
    @Inject(PresenceService) private readonly presence: PresenceService,
  ) {}

  onModuleInit(): void {
    if (this.redis.enabled) this.publishing.start({ now: true });
  }

  onApplicationShutdown(): Promise<void> {
    return this.publishing.stop();
  }

  local(): NodeCounts {
    return {
      connections: this.connections.connectedCount,
      watchedSessions: this.presence.watchedCount,
    };
  }

  /** Every live node's counts by node id (this node's read directly). */
  async all(): Promise<Map<string, NodeCounts>> {
    const out = new Map<string, NodeCounts>();
    const redis = this.redis.command;
    if (redis && redis.status === 'ready') {
      try {
        const ids = await redis.zrangebyscore(NODES_KEY, Date.now() - STATS_TTL_MS, '+inf');
        const values = ids.length ? await redis.mget(...ids.map(nodeKey)) : [];
        ids.forEach((id, i) => {
          const v = values[i];
          if (v) out.set(id, JSON.parse(v) as NodeCounts);
        });
      } catch (err) {
        this.logger.warn({ err: (err as Error).message }, "could not read other nodes' stats");
      }
    }
    out.set(this.liveRuns.nodeId, this.local());
    return out;
  }

  private async publish(): Promise<void> {
    const redis = this.redis.command;
    if (!redis || redis.status !== 'ready') return;
    const id = this.liveRuns.nodeId;
    const now = Date.now();
    try {
      await redis
        .multi()
        .set(nodeKey(id), JSON.stringify(this.local()), 'PX', STATS_TTL_MS)
        .zadd(NODES_KEY, now, id)
        .zremrangebyscore(NODES_KEY, '-inf', now - STATS_TTL_MS)
        .exec();
    } catch (err) {
      this.logger.debug({ err: (err as Error).message }, 'could not publish node stats');
    }
  }
}
