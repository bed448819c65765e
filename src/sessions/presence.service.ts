import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { PeriodicJob } from '../common/periodic-job.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { SessionsRepository } from './sessions.repository.js';

/**
 * Who is watching which session on this node (sockets in the room, SSE streams). Watched sessions
 * never expire. The watch is also leased in the database (sessions.watched_until), renewed
 * periodically, so the sweepers of other nodes respect it too.
 */
@Injectable()
export class PresenceService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(PresenceService.name);
  private readonly watchers = new Map<string, number>();
  private readonly renewMs: number;
  private readonly renewal: PeriodicJob;

  constructor(
    @Inject(SessionsRepository) private readonly sessions: SessionsRepository,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.renewMs = Math.max(
      50,
      Math.min(config.timeouts.sessionSweepIntervalMs, config.timeouts.sessionIdleMs) / 2,
    );
    this.renewal = new PeriodicJob({
      name: 'watch lease renewal',
      everyMs: this.renewMs,
      run: () => this.renew(),
      logger: this.logger,
    });
  }

  onModuleInit(): void {
    this.renewal.start();
  }

  onApplicationShutdown(): Promise<void> {
    return this.renewal.stop();
  }

  /** Registers one watcher; returns the function that unregisters it (idempotent). */
  watch(sessionId: string): () => void {
    const first = !this.watchers.has(sessionId);
    this.watchers.set(sessionId, (this.watchers.get(sessionId) ?? 0) + 1);
    if (first) void this.lease([sessionId]);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const n = (this.watchers.get(sessionId) ?? 1) - 1;
      if (n <= 0) this.watchers.delete(sessionId);
      else this.watchers.set(sessionId, n);
    };
  }

  isWatched(sessionId: string): boolean {
    return this.watchers.has(sessionId);
  }

  get watchedCount(): number {
    return this.watchers.size;
  }

  private async renew(): Promise<void> {
    await this.lease([...this.watchers.keys()]);
  }

  private async lease(ids: string[]): Promise<void> {
    try {
      await this.sessions.markWatched(ids, new Date(Date.now() + this.renewMs * 3));
    } catch (err) {
      this.logger.warn({ err }, 'could not renew session watch leases');
    }
  }
}
