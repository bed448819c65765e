import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { PeriodicJob } from '../common/periodic-job.js';
import { LiveRuns } from './live-runs.js';
import { QueueStore } from './queue.store.js';
import { SessionQueue } from './session-queue.js';

const SWEEP_MS = 2000;
const SESSIONS_PER_SWEEP = 50;

/**
 * Starts queued intents that nothing started: those queued when their node stopped (the
 * restart finds them), those whose start was refused at the concurrent-runs cap, and those
 * behind a run taken over from a dead node once its retry offer is resolved. Each start is
 * SessionQueue's, under the session lock, so a sweep on every node starts each intent once.
 */
@Injectable()
export class QueueSweeper implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(QueueSweeper.name);
  private readonly sweeping = new PeriodicJob({
    name: 'queue sweep',
    everyMs: SWEEP_MS,
    run: () => this.sweep(),
    logger: this.logger,
  });

  constructor(
    @Inject(QueueStore) private readonly store: QueueStore,
    @Inject(SessionQueue) private readonly queue: SessionQueue,
    @Inject(LiveRuns) private readonly live: LiveRuns,
  ) {}

  onApplicationBootstrap(): void {
    this.sweeping.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.sweeping.stop();
  }

  async sweep(): Promise<void> {
    if (!this.live.accepting) return;
    for (const sessionId of await this.store.stalledQueues(SESSIONS_PER_SWEEP)) {
      try {
        await this.queue.startNext(sessionId);
      } catch (err) {
        this.logger.warn({ err, sessionId }, 'could not start a queued intent');
      }
    }
  }
}
