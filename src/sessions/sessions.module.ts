import { Module } from '@nestjs/common';
import { PresenceService } from './presence.service.js';
import { RunControlService } from './run-control.service.js';
import { RunsRepository } from './runs.repository.js';
import { SessionExpiryService } from './session-expiry.service.js';
import { SessionStreamService } from './session-stream.service.js';
import { SessionsController } from './sessions.controller.js';
import { SessionsRepository } from './sessions.repository.js';
import { SessionsService } from './sessions.service.js';
import { CreateSessionUseCase } from './usecases/create-session.usecase.js';

@Module({
  controllers: [SessionsController],
  providers: [
    SessionsRepository,
    RunsRepository,
    SessionsService,
    CreateSessionUseCase,
    RunControlService,
    PresenceService,
    SessionExpiryService,
    SessionStreamService,
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
  ],
})
export class SessionsModule {}
