import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { PresenceService } from './presence.service.js';
import { PeriodicJob } from '../common/periodic-job.js';
import { SessionExpirer } from './session-expirer.js';
import { SessionsRepository } from './sessions.repository.js';

const SWEEP_BATCH = 100;

/**
 * Idle expiry (docs/protocol.md "Guarantees"): every SESSION_SWEEP_INTERVAL_MS, sessions that
 * nobody watches, with no activity for SESSION_IDLE_TIMEOUT_MS have their run cancelled (reason
 * `expired`, intent `abandoned`), get a `session_expired` event and lose their in-memory state.
 * They stay `active`. Each expiry is claimed with a conditional UPDATE, so with several nodes it
 * happens once, and `session_expired` does not count as activity, so it happens once per idle spell.
 */
@Injectable()
export class SessionExpiryService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(SessionExpiryService.name);
  private readonly job: PeriodicJob<number>;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(SessionsRepository) private readonly sessions: SessionsRepository,
    @Inject(PresenceService) private readonly presence: PresenceService,
    @Inject(SessionExpirer) private readonly expirer: SessionExpirer,
  ) {
    this.job = new PeriodicJob({
      name: 'session sweep',
      everyMs: config.timeouts.sessionSweepIntervalMs,
      run: () => this.doSweep(),
      logger: this.logger,
    });
  }

  onModuleInit(): void {
    this.job.start();
  }

  onApplicationShutdown(): Promise<void> {
    return this.job.stop();
  }

  /** One sweep; returns how many sessions it expired. Overlapping calls share one sweep. */
  sweep(): Promise<number> {
    return this.job.runOnce();
  }

  private async doSweep(): Promise<number> {
    const idleMs = this.config.timeouts.sessionIdleMs;
    let expired = 0;
    try {
      const cutoff = new Date(Date.now() - idleMs);
      const ids = await this.sessions.findIdle(cutoff, SWEEP_BATCH);
      for (const id of ids) {
        if (this.presence.isWatched(id)) continue;
        if (await this.expirer.expire(id, cutoff)) expired++;
      }
    } catch (err) {
      this.logger.error({ err }, 'session sweep failed');
    }
    return expired;
  }
}
