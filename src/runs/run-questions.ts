import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import type { EventDataMap } from '../contracts/events.js';
import { InteractionLifecycle, type Question } from './interaction-lifecycle.service.js';
import { InteractionTimers } from './interaction-timers.js';
import type { RunRef } from './run-ref.js';
import { InteractionHub, type InteractionAnswer } from './interaction-hub.js';
import { AgentFailure, type PausePoint, RunSuperseded } from './run-spec.js';
import { PausedRunsStore } from './paused-runs.store.js';
import { RunLauncher } from './run-launcher.js';

/** What a question asks (its id and deadline are the engine's). */
export type QuestionData<K extends 'confirm' | 'form'> = K extends 'confirm'
  ? Omit<EventDataMap['request_confirmation'], 'interactionId' | 'expiresAt'>
  : Omit<EventDataMap['component'], 'interactionId' | 'expiresAt'>;

/**
 * How a run pauses on a question: the waiter is registered before the question is stored and
 * published (an answer cannot arrive unseen), and after the answer the run moves back to
 * `running` only if this node still holds it and nobody ended it meanwhile. A question is stored
 * with the tool call that asks it, so an adopted run replaying its checkpoint finds it (again).
 */
@Injectable()
export class RunQuestions {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(InteractionLifecycle) private readonly interactions: InteractionLifecycle,
    @Inject(InteractionHub) private readonly hub: InteractionHub,
    @Inject(InteractionTimers) private readonly timers: InteractionTimers,
    @Inject(PausedRunsStore) private readonly paused: PausedRunsStore,
    @Inject(RunLauncher) private readonly launcher: RunLauncher,
  ) {}

  async ask<K extends 'confirm' | 'form'>(
    run: RunRef,
    signal: AbortSignal,
    point: PausePoint & { kind: K },
    data: QuestionData<K>,
  ): Promise<InteractionAnswer> {
    const id = randomUUID();
    const timeout =
      point.kind === 'confirm' ? this.config.timeouts.confirmationMs : this.config.timeouts.formMs;
    const expiresAt = new Date(Date.now() + timeout);
    const payload = { interactionId: id, ...data, expiresAt: expiresAt.toISOString() };
    const question = { kind: point.kind, data: payload } as Question;
    return this.waitFor(run, id, signal, true, async () => {
      if (!(await this.interactions.ask(run, question, expiresAt, point.callKey)))
        throw new RunSuperseded('question');
    });
  }

  /**
   * For a run replaying to where it paused: the answer its tool call's question got (or will get:
   * it waits while the question is open). `resumes` for the question the run paused at: the
   * run then goes back to `running`, which only the node holding it can do.
   */
  async asked(
    run: RunRef,
    signal: AbortSignal,
    point: PausePoint,
    resumes: boolean,
  ): Promise<InteractionAnswer> {
    const row = await this.paused.question(run.runId, point.callKey, point.kind);
    if (!row) throw new AgentFailure('The run could not find the question it paused at');
    if (row.outcome) {
      signal.throwIfAborted();
      if (resumes && !(await this.interactions.answered(run, this.launcher.nodeId)))
        throw new RunSuperseded('answer');
      return { outcome: row.outcome, response: row.response ?? undefined };
    }
    this.timers.schedule(row.id, row.expires_at);
    return this.waitFor(run, row.id, signal, resumes, () => Promise.resolve());
  }

  private async waitFor(
    run: RunRef,
    id: string,
    signal: AbortSignal,
    resumes: boolean,
    publish: () => Promise<void>,
  ): Promise<InteractionAnswer> {
    const answered = this.hub.wait(id, signal);
    answered.catch(() => undefined);
    try {
      await publish();
      const answer = await answered;
      // A run stopped meanwhile (a shutdown parks it) must not take the answer for itself.
      signal.throwIfAborted();
      if (resumes && !(await this.interactions.answered(run, this.launcher.nodeId)))
        throw new RunSuperseded('answer');
      return answer;
    } finally {
      this.timers.clear(id);
      this.hub.forget(id);
    }
  }
}
