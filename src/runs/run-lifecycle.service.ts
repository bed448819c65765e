import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { FaultPoints } from '../common/fault-points.js';
import type { CancelReason, NewEvent, ThinkingStep } from '../contracts/events.js';
import { HistoryService } from '../history/history.service.js';
import { UsageService } from '../quotas/usage.service.js';
import { interactionResolved } from './interaction-events.js';
import type { RunRow } from './runs.repository.js';
import { OpenQuestions } from './open-questions.js';
import type { RunRef } from './run-ref.js';
import { RunsStore } from './runs.store.js';
import { SessionQueue } from './session-queue.js';

/** A cancel for these reasons frees the session for its next queued intent. */
const startsQueue = (reason: CancelReason): boolean => reason === 'user' || reason === 'admin';

/** cancelSession's answer when the session's run turned out to execute in this process. */
export const RUN_IS_LIVE = Symbol('run executes here');

export const INTERRUPTED_ERROR = 'The run was interrupted: the server stopped while it was going';

const refOf = (r: RunRow): RunRef => ({
  runId: r.id,
  intentId: r.intent_id,
  sessionId: r.session_id,
  userId: r.user_id,
  attempt: r.attempt,
});

/**
 * The one owner of the run lifecycle. Every method is one transaction about one session (its row
 * locked first, see HistoryService.transaction) holding a checked transition (RunsStore, table in
 * run-states.ts) and the events that report it, written through the history outbox: the state
 * and its events commit together or not at all. Each returns whether the caller won; a caller
 * that lost must stop and write nothing more. A run that ends (completed, failed, cancelled or
 * interrupted) is counted in the usage ledger by the transaction that ends it, after its events
 * (idle expiry adds only session_expired after it): once, and before any tab can see the end.
 */
@Injectable()
export class RunLifecycle {
  constructor(
    @Inject(RunsStore) private readonly store: RunsStore,
    @Inject(HistoryService) private readonly history: HistoryService,
    @Inject(OpenQuestions) private readonly questions: OpenQuestions,
    @Inject(FaultPoints) private readonly faults: FaultPoints,
    @Inject(UsageService) private readonly usage: UsageService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(SessionQueue) private readonly queue: SessionQueue,
  ) {}

  /**
   * task_started, only while the run is still `running` (a cancel may have come first); for an
   * `announced` run (a queued intent's, whose start wrote it) only the check.
   */
  begin(run: RunRef, announced = false): Promise<boolean> {
    return this.history.transaction(run.sessionId, async () => {
      const row = await this.store.lockRun(run.runId);
      if (row?.status !== 'running') return false;
      if (!announced)
        await this.append(run, [{ type: 'task_started', data: { attempt: run.attempt } }]);
      return true;
    });
  }

  /** The answer and task_completed, with the run and its intent completed. */
  complete(
    run: RunRef,
    answer: string,
    usage: { promptTokens: number; completionTokens: number },
  ): Promise<boolean> {
    return this.history.transaction(run.sessionId, async () => {
      if (!(await this.store.transitionRun(run.runId, 'completed'))) return false;
      await this.faults.hit('run.closing');
      await this.store.transitionIntent(run.intentId, 'completed');
      await this.append(run, [
        { type: 'response', data: { content: answer } },
        { type: 'task_completed', data: { usage } },
      ]);
      await this.queue.startNextInTx(run.sessionId);
      await this.countRun(run);
      return true;
    });
  }

  /**
   * Cancels this run (its own cancel, or one on its behalf): task_cancelled if it won. A cancel
   * by a person (user, admin) lets the session's next queued intent start. With `heldBy`, only
   * while that node holds the run (not parked, not adopted by another node).
   */
  cancel(run: RunRef, reason: CancelReason, heldBy?: string): Promise<boolean> {
    return this.history.transaction(run.sessionId, async () => {
      return this.cancelInTx(run, reason, [], startsQueue(reason), heldBy);
    });
  }

  /**
   * `interrupt` / `rollback` sends, in the caller's session transaction: ends the session's
   * active run (task_cancelled with that reason, its open questions cancelled), the intent
   * `cancelled` or `rolled_back`. The ended run, if one was active; the caller starts the new
   * intent in the same transaction, ahead of any queued one.
   */
  async interruptInTx(
    sessionId: string,
    reason: 'interrupted' | 'rolled_back',
  ): Promise<RunRef | undefined> {
    const active = await this.store.activeRun(sessionId);
    if (!active) return undefined;
    return (await this.cancelInTx(refOf(active), reason)) ? refOf(active) : undefined;
  }

  /**
   * Cancels the session's active run as stored (with its open questions, as cancel does), for a
   * cancel that found no execution to ask. Undefined, and nothing changed, when no run is active
   * (a retry on offer stays on offer: `run:cancel` answers CONFLICT and must not touch it).
   */
  cancelSession(
    sessionId: string,
    reason: CancelReason,
    executesHere: (runId: string) => boolean = () => false,
  ): Promise<string | undefined | typeof RUN_IS_LIVE> {
    return this.history.transaction(sessionId, async () => {
      const active = await this.store.activeRun(sessionId);
      if (!active) return undefined;
      // Decided under the session lock: a run launched since the caller looked must stop itself
      // (its own writes in flight come first), never be ended behind its back.
      if (executesHere(active.id)) return RUN_IS_LIVE;
      return (await this.cancelInTx(refOf(active), reason, [], startsQueue(reason)))
        ? active.id
        : undefined;
    });
  }

  /**
   * Ends whatever the session has going, inside the caller's session transaction (idle expiry,
   * close): its queue (intent_dequeued each, first), its active run, and every open question with
   * its intent (a retry offer too). `then` is written right after those events, in the same
   * append (a close's session_closed): so nothing the run had buffered can be written between
   * them. Returns the run id when a run was cancelled.
   */
  async cancelSessionInTx(
    sessionId: string,
    reason: CancelReason,
    then: NewEvent[] = [],
  ): Promise<string | undefined> {
    await this.queue.dropAllInTx(sessionId, reason === 'expired' ? 'expired' : 'closed');
    const active = await this.store.activeRun(sessionId);
    if (active && (await this.cancelInTx(refOf(active), reason, then))) return active.id;
    const resolved = await this.questions.closeAll(sessionId);
    for (const i of new Set(resolved.map((r) => r.intent_id)))
      await this.store.transitionIntent(i, reason === 'expired' ? 'abandoned' : 'cancelled');
    if (resolved.length || then.length)
      await this.history.append(
        sessionId,
        [...resolved.map((i) => interactionResolved(i, 'cancelled')), ...then],
        { activity: reason !== 'expired' },
      );
    return undefined;
  }

  /**
   * The attempt failed: task_failed, with a retry offered while attempts are left (the intent
   * stays active) or the intent failed. `step` is the thinking step the failure interrupted.
   */
  fail(run: RunRef, error: string, step: ThinkingStep | undefined): Promise<boolean> {
    return this.history.transaction(run.sessionId, async () => {
      const row = await this.store.transitionRun(run.runId, 'failed');
      if (!row) return false;
      await this.faults.hit('run.closing');
      const before: NewEvent[] = step
        ? [{ type: 'thinking', data: { step, status: 'failed', detail: error } }]
        : [];
      // Retries count from the intent's first attempt, or from its latest regenerate.
      const first = Number((row.checkpoint as { firstAttempt?: number } | null)?.firstAttempt ?? 1);
      const offered = run.attempt - first < this.config.agent.maxRetries;
      if (offered) {
        await this.questions.offerRetry(run, error, before);
      } else {
        await this.store.transitionIntent(run.intentId, 'failed');
        await this.append(run, [
          ...before,
          { type: 'task_failed', data: { error, attempt: run.attempt, canRetry: false } },
        ]);
      }
      // A retry on offer holds the queue until it is answered or expires.
      if (!offered) await this.queue.startNextInTx(run.sessionId);
      await this.countRun(run);
      return true;
    });
  }

  /**
   * Takes over a run nothing executes any more (its node is gone, slow past the deadline, or it
   * never launched): one conditional UPDATE, fenced on the owner and its last heartbeat, so it
   * happens once; then a retry is offered. False when the run moved or was renewed meanwhile.
   */
  interrupt(row: RunRow, fence: { staleBefore?: Date } = {}): Promise<boolean> {
    return this.history.transaction(row.session_id, async () => {
      const won = await this.store.transitionRun(row.id, 'interrupted', {
        nodeId: row.node_id,
        ...fence,
      });
      if (!won) return false;
      await this.questions.offerRetry(refOf(won), INTERRUPTED_ERROR, []);
      await this.countRun(refOf(won));
      return true;
    });
  }

  /** Saves the transcript so far; false once the run is no longer active. */
  checkpoint(runId: string, checkpoint: object): Promise<boolean> {
    return this.store.saveCheckpoint(runId, checkpoint);
  }

  private async cancelInTx(
    run: RunRef,
    reason: CancelReason,
    then: NewEvent[] = [],
    startQueue = false,
    heldBy?: string,
  ): Promise<boolean> {
    if (!(await this.store.transitionRun(run.runId, 'cancelled', { nodeId: heldBy }))) return false;
    await this.faults.hit('run.closing');
    const resolved = await this.questions.closeAll(run.sessionId);
    const keepResumable = reason === 'expired' || reason === 'shutdown';
    for (const i of new Set([run.intentId, ...resolved.map((r) => r.intent_id)]))
      await this.store.transitionIntent(
        i,
        keepResumable
          ? 'abandoned'
          : reason === 'rolled_back' && i === run.intentId
            ? 'rolled_back'
            : 'cancelled',
      );
    await this.history.append(
      run.sessionId,
      [
        ...resolved.map((i) => interactionResolved(i, 'cancelled')),
        { type: 'task_cancelled', data: { reason }, runId: run.runId, intentId: run.intentId },
        ...then,
      ],
      { activity: reason !== 'expired' },
    );
    if (startQueue) await this.queue.startNextInTx(run.sessionId);
    await this.countRun(run);
    return true;
  }

  /**
   * Last of the close (the ledger row stays locked only until the commit); one run = one attempt.
   * After the queue's start, which locks the user's row (the concurrent-runs cap): every
   * transaction takes the user's row before the ledger's, as a send does, or two would deadlock.
   */
  private countRun(run: RunRef): Promise<void> {
    return this.usage.record(run.userId, { runs: 1 });
  }

  private async append(run: RunRef, events: NewEvent[]): Promise<void> {
    const ids = { runId: run.runId, intentId: run.intentId };
    await this.history.append(
      run.sessionId,
      events.map((e) => ({ ...e, ...ids })),
    );
  }
}
