import { Module } from '@nestjs/common';
import { AgentModule } from '../agent/agent.module.js';
import { AuthModule } from '../auth/auth.module.js';
import { SessionsModule } from '../sessions/sessions.module.js';
import { ChatGateway } from './chat.gateway.js';
import { SessionFanoutService } from './session-fanout.service.js';
import { RunsModule } from '../runs/runs.module.js';

@Module({
  imports: [AuthModule, SessionsModule, AgentModule, RunsModule],
  providers: [ChatGateway, SessionFanoutService],
  exports: [ChatGateway, SessionFanoutService],
})
export class ChatModule {}
