import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module.js';
import { SessionsModule } from '../sessions/sessions.module.js';
import { SessionStreamController } from './session-stream.controller.js';
import { StreamLifetimeService } from './stream-lifetime.service.js';
import { StreamTicketsRepository } from './stream-tickets.repository.js';
import { StreamTicketsService } from './stream-tickets.service.js';

/** The SSE face of a session's log: bearer or ticket auth, and when an open stream must end. */
@Module({
  imports: [AuthModule, SessionsModule],
  controllers: [SessionStreamController],
  providers: [StreamTicketsRepository, StreamTicketsService, StreamLifetimeService],
})
export class StreamsModule {}
