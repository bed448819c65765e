import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { PeriodicJob } from '../common/periodic-job.js';
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
  private readonly job: PeriodicJob<Record<string, number>>;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(Database) private readonly db: Database,
    @Inject(MetricsService) private readonly metrics: MetricsService,
  ) {
    this.job = new PeriodicJob({
      name: 'retention pass',
      everyMs: config.retention.intervalMs,
      run: () => this.pass(),
      logger: this.logger,
    });
  }

  onModuleInit(): void {
    this.job.start();
  }

  onApplicationShutdown(): Promise<void> {
    return this.job.stop();
  }

  /** One pass over every cleanup (or the one in flight); resolves with the rows deleted per cleanup. */
  runOnce(): Promise<Record<string, number>> {
    return this.job.runOnce();
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
