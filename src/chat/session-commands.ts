import { Inject, Injectable } from '@nestjs/common';
import { CreateSessionUseCase } from '../sessions/usecases/create-session.usecase.js';
import type { HandlerTable } from './socket-handlers.js';
import { SocketMemberships } from './socket-memberships.js';

type SessionCommandName = 'session:create' | 'session:join' | 'session:leave';

/** The socket commands on sessions themselves: create one, join it (with replay), leave it. */
@Injectable()
export class SessionCommands {
  readonly handlers: Pick<HandlerTable, SessionCommandName>;

  constructor(
    @Inject(CreateSessionUseCase) create: CreateSessionUseCase,
    @Inject(SocketMemberships) memberships: SocketMemberships,
  ) {
    this.handlers = {
      'session:create': {
        run: async (s, p) => ({
          session: await create.execute(s.data.userId, p.title?.trim()),
        }),
      },
      'session:join': {
        run: (s, p) => memberships.join(s, p.sessionId, p.afterSeq ?? 0),
      },
      'session:leave': {
        run: (s, p) => memberships.leave(s, p.sessionId),
      },
    };
  }
}
