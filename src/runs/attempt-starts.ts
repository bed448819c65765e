import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { DomainError } from '../common/domain-error.js';
import type { RunRef } from './run-ref.js';
import { RunsStore } from './runs.store.js';

/**
 * Inserting runs, in the caller's session transaction (a run's state then moves only through
 * RunLifecycle): a new intent with its first run, or the next attempt of an existing intent.
 */
@Injectable()
export class AttemptStarts {
  constructor(@Inject(RunsStore) private readonly store: RunsStore) {}

  /**
   * Inserts a new intent (following `message.parentIntentId`, its user_message at
   * `message.seq`) and its first run, in the caller's session transaction.
   */
  async startIntent(
    run: RunRef,
    message: { content: string; parentIntentId: string | null; seq: number },
    nodeId: string,
    checkpoint: object,
  ) {
    return this.store.insertIntentWithRun(
      {
        id: run.intentId,
        sessionId: run.sessionId,
        userId: run.userId,
        content: message.content,
        parentIntentId: message.parentIntentId,
        messageSeq: message.seq,
      },
      { id: run.runId, attempt: run.attempt, nodeId, checkpoint },
    );
  }

  /**
   * The next run of an existing intent, in the caller's session transaction, re-opened by its
   * own checked transition: a retry or resume (`from: "checkpoint"`) of an intent still active
   * or abandoned goes on from the last run's checkpoint; a regenerate (`from: "start"`) of an
   * ended intent (completed, failed, cancelled) starts over from its message.
   */
  async startNextAttempt(
    intentId: string,
    nodeId: string,
    from: 'checkpoint' | 'start' = 'checkpoint',
  ) {
    const intent = await this.store.findIntent(intentId, true);
    if (!intent) throw DomainError.notFound('Intent');
    const reopens = from === 'start' ? ['completed', 'failed', 'cancelled'] : ['abandoned'];
    if (reopens.includes(intent.status)) await this.store.transitionIntent(intentId, 'active');
    else if (from === 'start' || intent.status !== 'active')
      throw new DomainError('CONFLICT', `This intent is ${intent.status}; it cannot run again`);
    const last = await this.store.lastRun(intentId);
    const attempt = (last?.attempt ?? 0) + 1;
    const fresh = { transcript: [{ role: 'user', content: intent.content }] };
    // A checkpoint taken at a question says where that run paused: not where the next one does.
    const kept = { ...((last?.checkpoint ?? fresh) as Record<string, unknown>) };
    for (const key of ['pausedAt', 'usage', 'round']) delete kept[key];
    const checkpoint = from === 'start' ? { ...fresh, firstAttempt: attempt } : kept;
    const run: RunRef = {
      runId: randomUUID(),
      intentId,
      sessionId: intent.session_id,
      userId: intent.user_id,
      attempt,
    };
    await this.store.insertRun({ ...run, id: run.runId, nodeId, checkpoint });
    return { run, checkpoint };
  }
}
