import { Module } from '@nestjs/common';
import { RunsModule } from '../runs/runs.module.js';
import { InboxController } from './inbox.controller.js';
import { InboxService } from './inbox.service.js';

/**
 * The inbox over REST: the user's open questions across sessions, read from the run engine's
 * tables (InboxRepository). Its live twin, the `inbox` socket event, is the chat module's.
 */
@Module({
  imports: [RunsModule],
  controllers: [InboxController],
  providers: [InboxService],
})
export class InboxModule {}
