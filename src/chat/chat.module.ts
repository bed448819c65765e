import { Module } from '@nestjs/common';
import { AgentModule } from '../agent/agent.module.js';
import { AuthModule } from '../auth/auth.module.js';
import { SessionsModule } from '../sessions/sessions.module.js';
import { ChatConnections } from './chat-connections.js';
import { ChatGateway } from './chat.gateway.js';
import { RunCommands } from './run-commands.js';
import { SteeringCommands } from './steering-commands.js';
import { SessionCommands } from './session-commands.js';
import { SessionFanoutService } from './session-fanout.service.js';
import { InboxFanout } from './inbox-fanout.js';
import { SessionsFanout } from './sessions-fanout.js';
import { RunsModule } from '../runs/runs.module.js';
import { SocketAuthentication } from './socket-authentication.js';
import { SocketMemberships } from './socket-memberships.js';

@Module({
  imports: [AuthModule, SessionsModule, AgentModule, RunsModule],
  providers: [
    ChatGateway,
    ChatConnections,
    SocketAuthentication,
    SocketMemberships,
    SessionCommands,
    RunCommands,
    SteeringCommands,
    SessionFanoutService,
    InboxFanout,
    SessionsFanout,
  ],
  exports: [ChatConnections, SessionFanoutService],
})
export class ChatModule {}
