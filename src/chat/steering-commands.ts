import { Inject, Injectable } from '@nestjs/common';
import { RegenerateIntentUseCase } from '../agent/usecases/regenerate-intent.usecase.js';
import { SessionBranches } from '../runs/session-branches.js';
import { SessionQueue } from '../runs/session-queue.js';
import type { HandlerTable } from './socket-handlers.js';

type SteeringCommandName = 'intent:cancel' | 'intent:regenerate' | 'session:checkout';

/**
 * The socket commands that steer a conversation besides sending: take a queued message back,
 * regenerate the last answer, move the head to another branch. Each is one call with the
 * socket's user.
 */
@Injectable()
export class SteeringCommands {
  readonly handlers: Pick<HandlerTable, SteeringCommandName>;

  constructor(
    @Inject(SessionQueue) queue: SessionQueue,
    @Inject(RegenerateIntentUseCase) regenerate: RegenerateIntentUseCase,
    @Inject(SessionBranches) branches: SessionBranches,
  ) {
    this.handlers = {
      'intent:cancel': {
        run: async (s, p) => {
          await queue.dequeue(p.sessionId, p.intentId, s.data.userId);
          return {};
        },
      },
      'intent:regenerate': {
        run: async (s, p) => ({
          runId: await regenerate.execute({
            ...p,
            userId: s.data.userId,
            connectionId: s.data.connectionId,
          }),
        }),
      },
      'session:checkout': {
        run: async (s, p) => ({
          headIntentId: await branches.checkout(p.sessionId, p.intentId, s.data.userId),
        }),
      },
    };
  }
}
