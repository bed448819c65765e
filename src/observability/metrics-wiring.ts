import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { EventBus } from '../history/event-bus.js';
import { HistoryService } from '../history/history.service.js';
import { MetricsService } from './metrics.service.js';

/** Feeds the log's flushes and events into the metrics (the log itself knows nothing of Prometheus). */
@Injectable()
export class MetricsWiring implements OnModuleInit, OnModuleDestroy {
  private unsubscribe: (() => void) | undefined;

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
    this.unsubscribe = this.bus.subscribeAll((e) => {
      this.metrics.eventsAppended.inc({ type: e.type });
      if (e.type === 'interaction_resolved')
        this.metrics.interactionsByOutcome.inc({ outcome: e.data.outcome });
      if (e.type === 'task_completed') this.metrics.runsByOutcome.inc({ outcome: 'completed' });
      if (e.type === 'task_cancelled') this.metrics.runsByOutcome.inc({ outcome: 'cancelled' });
      if (e.type === 'task_failed') this.metrics.runsByOutcome.inc({ outcome: 'failed' });
    });
  }

  onModuleDestroy(): void {
    this.unsubscribe?.();
  }
}
