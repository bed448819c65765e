import { Module } from '@nestjs/common';
import { RemindersModule } from '../reminders/reminders.module.js';
import { LiveRunStopper } from './live-run-stopper.js';
import { PresenceService } from './presence.service.js';
import { RunControlService } from './run-control.service.js';
import { RunsRepository } from './runs.repository.js';
import { SessionExpiryService } from './session-expiry.service.js';
import { SessionExpirer } from './session-expirer.js';
import { SessionStreamService } from './session-stream.service.js';
import { SessionsController } from './sessions.controller.js';
import { SessionsRepository } from './sessions.repository.js';
import { SessionsService } from './sessions.service.js';
import { CreateSessionUseCase } from './usecases/create-session.usecase.js';
import { CloseSessionUseCase } from './usecases/close-session.usecase.js';

/**
 * Imports RemindersModule for the close's transaction (it cancels the session's scheduled
 * reminders). No cycle: reminders/ imports nothing of sessions/ (it locks the session row through
 * HistoryService, a global module).
 */
@Module({
  imports: [RemindersModule],
  controllers: [SessionsController],
  providers: [
    SessionsRepository,
    RunsRepository,
    SessionsService,
    CreateSessionUseCase,
    RunControlService,
    PresenceService,
    SessionExpiryService,
    SessionExpirer,
    SessionStreamService,
    LiveRunStopper,
    CloseSessionUseCase,
  ],
  exports: [
    SessionsService,
    CreateSessionUseCase,
    SessionsRepository,
    RunsRepository,
    RunControlService,
    PresenceService,
    SessionExpiryService,
    SessionStreamService,
    CloseSessionUseCase,
  ],
})
export class SessionsModule {}
