import { Inject, Injectable } from '@nestjs/common';
import type { ApprovalScope, EventDataMap, InteractionOutcome } from '../contracts/events.js';
import { FaultPoints } from '../common/fault-points.js';
import { Database } from '../database/database.js';
import { HistoryService } from '../history/history.service.js';
import { currentTraceparent } from '../observability/tracing.js';
import { ApprovalGrants } from './approval-grants.js';
import { interactionResolved } from './interaction-events.js';
import type { InteractionRow } from './runs.repository.js';
import { InteractionTimers } from './interaction-timers.js';
import type { RunRef } from './run-ref.js';
import { SessionQueue } from './session-queue.js';
import { RunsStore } from './runs.store.js';

export type Question =
  | { kind: 'confirm'; data: EventDataMap['request_confirmation'] }
  | { kind: 'form'; data: EventDataMap['component'] };

/** Who answered (a connection, with a response), if a person did. */
export interface AnsweredBy {
  connectionId?: string;
  response?: unknown;
  /** A denial's reason, carried by its `interaction_resolved`. */
  reason?: string;
  /** An approval's scope; `session` also grants the tool for the session (ApprovalGrants). */
  scope?: ApprovalScope;
  /** The user who answered (a grant records them). */
  userId?: string;
  /** An approval's edited arguments (what the tool runs with), carried by `interaction_resolved`. */
  arguments?: Record<string, unknown>;
  /** Whether those differ from the arguments asked about. */
  edited?: boolean;
}

type Resolution<T> = Promise<{ row: InteractionRow; result: T | undefined } | undefined>;

/**
 * Questions of a run (confirm, form) and retry offers: asked with the run's move to
 * awaiting_input, resolved once (the first answer, the timeout or a cancel wins), each with its
 * event in the same transaction. The row is the truth about an answer; delivering it to the
 * waiting run is a separate, repeatable step (InteractionSweeper re-reads the row).
 */
@Injectable()
export class InteractionLifecycle {
  constructor(
    @Inject(RunsStore) private readonly store: RunsStore,
    @Inject(HistoryService) private readonly history: HistoryService,
    @Inject(Database) private readonly db: Database,
    @Inject(InteractionTimers) private readonly timers: InteractionTimers,
    @Inject(FaultPoints) private readonly faults: FaultPoints,
    @Inject(SessionQueue) private readonly queue: SessionQueue,
    @Inject(ApprovalGrants) private readonly grants: ApprovalGrants,
  ) {}

  /** running → awaiting_input with the question stored and published; false if the run moved. */
  ask(run: RunRef, q: Question, expiresAt: Date, callKey?: string): Promise<boolean> {
    return this.history.transaction(run.sessionId, async () => {
      if (!(await this.store.transitionRun(run.runId, 'awaiting_input'))) return false;
      const id = q.data.interactionId;
      await this.store.insertInteraction({
        id,
        runId: run.runId,
        intentId: run.intentId,
        sessionId: run.sessionId,
        kind: q.kind,
        payload: q.data,
        expiresAt,
        callKey,
        traceparent: currentTraceparent(),
      });
      const ids = { runId: run.runId, intentId: run.intentId };
      await this.history.append(run.sessionId, [
        q.kind === 'confirm'
          ? { type: 'request_confirmation', data: q.data, ...ids }
          : { type: 'component', data: q.data, ...ids },
      ]);
      this.db.afterCommit(() => this.timers.schedule(id, expiresAt));
      return true;
    });
  }

  /**
   * awaiting_input → running once answered, by the node holding the run; false if the run was
   * ended, parked or adopted by another node meanwhile.
   */
  async answered(run: RunRef, nodeId: string): Promise<boolean> {
    return (await this.store.transitionRun(run.runId, 'running', { nodeId })) !== undefined;
  }

  /**
   * Resolves an open interaction (session, interaction, outcome, who, then), with
   * interaction_resolved in the same transaction; a retry offer declined or expired also fails
   * its intent. `then` runs in that transaction when this call won (a retry starts its run
   * there). Undefined when somebody resolved it first.
   */
  resolve<T = undefined>(
    ...args: [
      string,
      string,
      InteractionOutcome,
      AnsweredBy,
      ((row: InteractionRow) => Promise<T>)?,
    ]
  ): Resolution<T> {
    return this.history.transaction(args[0], () => this.resolveInTx(...args));
  }

  /**
   * A retry offer declined because another run starts in the caller's transaction (a new
   * message, a resume): like resolveInTx, but the session is not free, so its queue waits.
   */
  declineInTx(sessionId: string, interactionId: string, by: AnsweredBy): Resolution<undefined> {
    return this.resolveInTx(sessionId, interactionId, 'no_retry', by, undefined, false);
  }

  /** Like resolve, inside the caller's session transaction. */
  async resolveInTx<T>(
    sessionId: string,
    interactionId: string,
    outcome: InteractionOutcome,
    by: AnsweredBy,
    then?: (row: InteractionRow) => Promise<T>,
    freesSession = true,
  ): Resolution<T> {
    const row = await this.store.resolveInteraction(
      interactionId,
      outcome,
      by.connectionId ?? null,
      by.response,
    );
    if (!row) return undefined;
    await this.faults.hit('interaction.resolved');
    if (row.kind === 'retry' && outcome !== 'retry')
      await this.store.transitionIntent(row.intent_id, 'failed');
    const approval = row.kind === 'confirm' && outcome === 'approved';
    const scope = approval ? (by.scope ?? 'once') : undefined;
    await this.history.append(sessionId, [
      interactionResolved(row, outcome, by.connectionId, {
        reason: by.reason,
        arguments: by.arguments,
        edited: by.edited,
        scope,
      }),
    ]);
    // A standing grant commits with the answer that made it, its event right after.
    if (scope === 'session' && by.userId)
      await this.grants.grantInTx(
        sessionId,
        String(row.payload.tool),
        { userId: by.userId, connectionId: by.connectionId, interactionId: row.id },
        { runId: row.run_id, intentId: row.intent_id },
      );
    // A retry offer declined or expired frees the session: its next queued intent starts.
    if (freesSession && row.kind === 'retry' && outcome !== 'retry')
      await this.queue.startNextInTx(sessionId);
    this.db.afterCommit(() => this.timers.clear(interactionId));
    return { row, result: then ? await then(row) : undefined };
  }
}
