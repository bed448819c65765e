import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { PresenceService } from './presence.service.js';
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
  private timer: NodeJS.Timeout | undefined;
  private sweeping: Promise<number> | undefined;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(SessionsRepository) private readonly sessions: SessionsRepository,
    @Inject(PresenceService) private readonly presence: PresenceService,
    @Inject(SessionExpirer) private readonly expirer: SessionExpirer,
  ) {}

  onModuleInit(): void {
    this.timer = setInterval(() => void this.sweep(), this.config.timeouts.sessionSweepIntervalMs);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.sweeping;
  }

  /** One sweep; returns how many sessions it expired. Overlapping calls share one sweep. */
  sweep(): Promise<number> {
    this.sweeping ??= this.doSweep().finally(() => (this.sweeping = undefined));
    return this.sweeping;
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
