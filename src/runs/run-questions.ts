import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import type { EventDataMap } from '../contracts/events.js';
import { InteractionLifecycle, type Question } from './interaction-lifecycle.service.js';
import { InteractionTimers } from './interaction-timers.js';
import type { RunRef } from './run-ref.js';
import { InteractionHub, type InteractionAnswer } from './interaction-hub.js';
import { RunSuperseded } from './run-spec.js';

/**
 * How a run pauses on a question: the waiter is registered before the question is stored and
 * published (an answer cannot arrive unseen), and after the answer the run moves back to
 * `running` only if nobody ended it meanwhile.
 */
@Injectable()
export class RunQuestions {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(InteractionLifecycle) private readonly interactions: InteractionLifecycle,
    @Inject(InteractionHub) private readonly hub: InteractionHub,
    @Inject(InteractionTimers) private readonly timers: InteractionTimers,
  ) {}

  async ask<K extends 'confirm' | 'form'>(
    run: RunRef,
    signal: AbortSignal,
    kind: K,
    data: K extends 'confirm'
      ? Omit<EventDataMap['request_confirmation'], 'interactionId' | 'expiresAt'>
      : Omit<EventDataMap['component'], 'interactionId' | 'expiresAt'>,
  ): Promise<InteractionAnswer> {
    const id = randomUUID();
    const timeout =
      kind === 'confirm' ? this.config.timeouts.confirmationMs : this.config.timeouts.formMs;
    const expiresAt = new Date(Date.now() + timeout);
    const payload = { interactionId: id, ...data, expiresAt: expiresAt.toISOString() };
    const answered = this.hub.wait(id, signal);
    answered.catch(() => undefined);
    try {
      if (!(await this.interactions.ask(run, { kind, data: payload } as Question, expiresAt)))
        throw new RunSuperseded('question');
      const answer = await answered;
      if (!(await this.interactions.answered(run))) throw new RunSuperseded('answer');
      return answer;
    } finally {
      this.timers.clear(id);
      this.hub.forget(id);
    }
  }
}
