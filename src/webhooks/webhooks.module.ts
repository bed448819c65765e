import { Module } from '@nestjs/common';
import { WebhookDispatcherService } from './webhook-dispatcher.service.js';
import { WebhooksController } from './webhooks.controller.js';
import { WebhooksRepository } from './webhooks.repository.js';
import { WebhooksService } from './webhooks.service.js';

/**
 * Signed, durable webhooks: the tables' one owner, the admin REST API, and the dispatcher that
 * runs on every node. Deliveries are recorded by the event log's own write (see HistoryRepository).
 */
@Module({
  controllers: [WebhooksController],
  providers: [WebhooksRepository, WebhooksService, WebhookDispatcherService],
})
export class WebhooksModule {}
