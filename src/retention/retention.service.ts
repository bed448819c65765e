import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { Database } from '../database/database.js';
import { MetricsService } from '../observability/metrics.service.js';
import { RETENTION_CLEANUPS, type RetentionCleanup } from './retention-cleanups.js';

const BATCH = 5000;

/**
 * Deletes what only grows otherwise (RETENTION_CLEANUPS) every RETENTION_INTERVAL_MS, in batches.
 * Every node runs it; the deletes are idempotent, so nodes running at once only share the work.
 */
@Injectable()
export class RetentionService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(RetentionService.name);
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<Record<string, number>> | undefined;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(Database) private readonly db: Database,
    @Inject(MetricsService) private readonly metrics: MetricsService,
  ) {}

  onModuleInit(): void {
    this.timer = setInterval(() => void this.runOnce(), this.config.retention.intervalMs);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** One pass over every cleanup; resolves with the rows deleted per cleanup. */
  runOnce(): Promise<Record<string, number>> {
    this.running ??= this.pass().finally(() => (this.running = undefined));
    return this.running;
  }

  private async pass(): Promise<Record<string, number>> {
    const deleted: Record<string, number> = {};
    for (const cleanup of RETENTION_CLEANUPS) {
      try {
        deleted[cleanup.name] = await this.clean(cleanup);
      } catch (err) {
        this.logger.warn({ err, cleanup: cleanup.name }, 'retention cleanup failed');
      }
    }
    const total = Object.values(deleted).reduce((a, b) => a + b, 0);
    if (total > 0) this.logger.log({ deleted }, 'retention pass');
    return deleted;
  }

  private async clean(cleanup: RetentionCleanup): Promise<number> {
    let total = 0;
    for (;;) {
      const rows = await this.db.query(cleanup.sql, [BATCH, ...cleanup.params(this.config)]);
      total += rows.length;
      this.metrics.retentionDeleted.inc({ cleanup: cleanup.name }, rows.length);
      if (rows.length < BATCH) return total;
    }
  }
}
