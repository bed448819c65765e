import { Module } from '@nestjs/common';
import { RemindersModule } from '../reminders/reminders.module.js';
import { RunsModule } from '../runs/runs.module.js';
import { PresenceService } from './presence.service.js';
import { SessionExpiryService } from './session-expiry.service.js';
import { SessionExpirer } from './session-expirer.js';
import { SessionNotifier } from './session-notifier.js';
import { SessionStreamService } from './session-stream.service.js';
import { SessionsController } from './sessions.controller.js';
import { SessionsRepository } from './sessions.repository.js';
import { SessionsService } from './sessions.service.js';
import { CreateSessionUseCase } from './usecases/create-session.usecase.js';
import { CloseSessionUseCase } from './usecases/close-session.usecase.js';
import { RenameSessionUseCase } from './usecases/rename-session.usecase.js';

/**
 * Sessions: their rows, lists, presence, streams, and their ends (close, idle expiry). Imports
 * RunsModule, because a close or expiry ends the session's run in its own transaction, and
 * RemindersModule, because a close cancels the session's scheduled reminders. Neither imports
 * sessions/ (both lock the session row through HistoryService, a global module).
 */
@Module({
  imports: [RemindersModule, RunsModule],
  controllers: [SessionsController],
  providers: [
    SessionsRepository,
    SessionsService,
    CreateSessionUseCase,
    PresenceService,
    SessionExpiryService,
    SessionExpirer,
    SessionStreamService,
    CloseSessionUseCase,
    RenameSessionUseCase,
    SessionNotifier,
  ],
  exports: [
    SessionsService,
    CreateSessionUseCase,
    SessionsRepository,
    PresenceService,
    SessionExpiryService,
    SessionStreamService,
    CloseSessionUseCase,
    SessionNotifier,
  ],
})
export class SessionsModule {}
