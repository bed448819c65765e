import { Global, Module } from '@nestjs/common';
import { EventBus } from './event-bus.js';
import { HistoryRepository } from './history.repository.js';
import { HistoryService } from './history.service.js';

/** The per-session event log. Global: every module that writes events goes through it. */
@Global()
@Module({
  providers: [HistoryRepository, HistoryService, EventBus],
  exports: [HistoryService, HistoryRepository, EventBus],
})
export class HistoryModule {}
