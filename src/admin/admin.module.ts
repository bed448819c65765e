import { Module } from '@nestjs/common';
import { AgentModule } from '../agent/agent.module.js';
import { AuthModule } from '../auth/auth.module.js';
import { ChatModule } from '../chat/chat.module.js';
import { SessionsModule } from '../sessions/sessions.module.js';
import { AdminOperationsController } from './admin-operations.controller.js';
import { AdminOperationsService } from './admin-operations.service.js';
import { AdminRunsService } from './admin-runs.service.js';
import { AdminStatsService } from './admin-stats.service.js';
import { AdminUsersController } from './admin-users.controller.js';
import { AdminUsersService } from './admin-users.service.js';
import { NodeStatsService } from './node-stats.service.js';
import { RunsModule } from '../runs/runs.module.js';

/** Operators' REST API. Owns no tables: it calls the other modules' services. */
@Module({
  imports: [AuthModule, SessionsModule, AgentModule, ChatModule, RunsModule],
  controllers: [AdminUsersController, AdminOperationsController],
  providers: [
    AdminUsersService,
    AdminOperationsService,
    AdminRunsService,
    AdminStatsService,
    NodeStatsService,
  ],
})
export class AdminModule {}
