import { Inject, Injectable } from '@nestjs/common';
import { AnswerInteractionUseCase } from '../agent/usecases/answer-interaction.usecase.js';
import { CancelRunUseCase } from '../agent/usecases/cancel-run.usecase.js';
import { ResumeIntentUseCase } from '../agent/usecases/resume-intent.usecase.js';
import { SendMessageUseCase } from '../agent/usecases/send-message.usecase.js';
import type { HandlerTable } from './socket-handlers.js';

type RunCommandName = 'message:send' | 'interaction:respond' | 'run:cancel' | 'intent:resume';

/**
 * The socket commands that start, steer or stop a session's run: send a message, answer an
 * interaction, cancel the run, resume an interrupted intent. Each is one use case call with the
 * socket's user and connection.
 */
@Injectable()
export class RunCommands {
  readonly handlers: Pick<HandlerTable, RunCommandName>;

  constructor(
    @Inject(SendMessageUseCase) send: SendMessageUseCase,
    @Inject(AnswerInteractionUseCase) answer: AnswerInteractionUseCase,
    @Inject(CancelRunUseCase) cancel: CancelRunUseCase,
    @Inject(ResumeIntentUseCase) resume: ResumeIntentUseCase,
  ) {
    this.handlers = {
      'message:send': {
        run: (s, p) =>
          send.execute({ ...p, userId: s.data.userId, connectionId: s.data.connectionId }),
      },
      'interaction:respond': {
        run: async (s, p) => {
          await answer.execute({ ...p, userId: s.data.userId, connectionId: s.data.connectionId });
          return {};
        },
      },
      'run:cancel': {
        run: (s, p) => cancel.execute({ userId: s.data.userId, sessionId: p.sessionId }),
      },
      'intent:resume': {
        run: async (s, p) => ({
          runId: await resume.execute({
            ...p,
            userId: s.data.userId,
            connectionId: s.data.connectionId,
          }),
        }),
      },
    };
  }
}
