import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { EventBus } from '../history/event-bus.js';
import { HistoryService } from '../history/history.service.js';
import { MetricsService } from './metrics.service.js';

/** Feeds the log's flushes and events into the metrics (the log itself knows nothing of Prometheus). */
@Injectable()
export class MetricsWiring implements OnModuleInit, OnModuleDestroy {
  private unsubscribe: (() => void) | undefined;
  /** Start time of runs this node wrote task_started for; bounded (see below). */
  private readonly runStarts = new Map<string, number>();

  constructor(
    @Inject(MetricsService) private readonly metrics: MetricsService,
    @Inject(HistoryService) private readonly history: HistoryService,
    @Inject(EventBus) private readonly bus: EventBus,
  ) {}

  onModuleInit(): void {
    this.history.onFlush = (events, ms) => {
      this.metrics.flushSize.observe(events);
      this.metrics.flushSeconds.observe(ms / 1000);
    };
    this.history.outage.onRetry = () => this.metrics.historyWriteRetries.inc();
    this.unsubscribe = this.bus.subscribeAll((e, origin) => {
      if (origin !== 'local') return;
      this.metrics.eventsAppended.inc({ type: e.type });
      if (e.type === 'interaction_resolved')
        this.metrics.interactionsByOutcome.inc({ outcome: e.data.outcome });
      if (e.type === 'task_started' && e.runId) {
        // Runs that never end here (their node died) must not grow the map without bound.
        if (this.runStarts.size >= 10_000)
          this.runStarts.delete(this.runStarts.keys().next().value!);
        this.runStarts.set(e.runId, Date.parse(e.createdAt));
      }
      const outcome =
        e.type === 'task_completed'
          ? 'completed'
          : e.type === 'task_cancelled'
            ? 'cancelled'
            : e.type === 'task_failed'
              ? 'failed'
              : undefined;
      if (outcome) {
        this.metrics.runsByOutcome.inc({ outcome });
        const started = e.runId ? this.runStarts.get(e.runId) : undefined;
        if (started !== undefined && e.runId) {
          this.metrics.runDuration.observe({ outcome }, (Date.parse(e.createdAt) - started) / 1000);
          this.runStarts.delete(e.runId);
        }
      }
    });
  }

  onModuleDestroy(): void {
    this.unsubscribe?.();
  }
}
