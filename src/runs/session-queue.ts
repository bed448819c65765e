import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { DomainError } from '../common/domain-error.js';
import { isUuid } from '../common/uuid.js';
import { FaultPoints } from '../common/fault-points.js';
import type { DequeueReason } from '../contracts/events.js';
import { Database } from '../database/database.js';
import { HistoryService } from '../history/history.service.js';
import { QuotaPolicy } from '../quotas/quota-policy.service.js';
import { QueueStore } from './queue.store.js';
import { RunLauncher } from './run-launcher.js';
import type { RunSpec } from './run-spec.js';
import { RunsStore } from './runs.store.js';
import { SessionBranches } from './session-branches.js';

/**
 * A session's queue of intents (`message:send` with `ifBusy: "enqueue"`): the next one starts in
 * the very transaction that frees the session (a run ending, a retry offer declined or expired),
 * so no send can get in between; its execution is launched once that transaction commits. Any
 * node may start it: the session row lock orders the candidates and the active-run index admits
 * one. What a commit did not launch (a node that stopped, a user at the concurrent-runs cap) is
 * started by QueueSweeper.
 */
@Injectable()
export class SessionQueue {
  private readonly logger = new Logger(SessionQueue.name);

  constructor(
    @Inject(RunsStore) private readonly runs: RunsStore,
    @Inject(QueueStore) private readonly queue: QueueStore,
    @Inject(HistoryService) private readonly history: HistoryService,
    @Inject(Database) private readonly db: Database,
    @Inject(RunLauncher) private readonly launcher: RunLauncher,
    @Inject(QuotaPolicy) private readonly quotas: QuotaPolicy,
    @Inject(FaultPoints) private readonly faults: FaultPoints,
    @Inject(SessionBranches) private readonly branches: SessionBranches,
  ) {}

  /**
   * In the caller's session transaction: starts the next queued intent when nothing is in front
   * of it (no active run, no open retry offer). Its run is inserted `running` here and launched
   * after the commit; the spec, or undefined when nothing started.
   */
  async startNextInTx(sessionId: string): Promise<RunSpec | undefined> {
    // A node shutting down leaves the queue to the node that comes up (QueueSweeper).
    if (!this.launcher.accepting) return undefined;
    if (await this.runs.activeRun(sessionId)) return undefined;
    if ((await this.runs.pendingOf({ sessionId, kind: 'retry' })).length) return undefined;
    const next = await this.queue.nextToStart(sessionId);
    if (!next) return undefined;
    await this.faults.hit('queue.starting');
    try {
      await this.quotas.assertRunSlot(next.user_id);
    } catch (err) {
      // At the concurrent-runs cap: it stays queued, and the sweep tries again.
      if (err instanceof DomainError) return undefined;
      throw err;
    }
    await this.runs.transitionIntent(next.id, 'active');
    const transcript = [{ role: 'user' as const, content: next.content }];
    const spec: RunSpec = {
      runId: randomUUID(),
      intentId: next.id,
      sessionId,
      userId: next.user_id,
      attempt: 1,
      transcript,
      announced: true,
    };
    await this.runs.insertRun({
      id: spec.runId,
      intentId: spec.intentId,
      sessionId,
      userId: spec.userId,
      attempt: 1,
      nodeId: this.launcher.nodeId,
      checkpoint: { transcript },
    });
    // Off the queue now, in the log too: after the closing event in front of it, in this very
    // transaction (the execution's begin() then only checks the run is still running).
    await this.history.append(sessionId, [
      {
        type: 'task_started',
        data: { attempt: 1 },
        runId: spec.runId,
        intentId: spec.intentId,
      },
    ]);
    this.db.afterCommit(() => {
      this.logger.log(
        { sessionId, intentId: spec.intentId, runId: spec.runId },
        'queued intent started',
      );
      this.launcher.launch(spec);
    });
    return spec;
  }

  /** Starts the next queued intent if the session is free, in a transaction of its own. */
  startNext(sessionId: string): Promise<RunSpec | undefined> {
    return this.history.transaction(sessionId, async (locked) =>
      locked?.status === 'active' ? this.startNextInTx(sessionId) : undefined,
    );
  }

  /** In the caller's session transaction: every queued intent leaves, `intent_dequeued` each. */
  async dropAllInTx(sessionId: string, reason: DequeueReason): Promise<number> {
    const queued = await this.queue.queued(sessionId);
    for (const q of queued) await this.runs.transitionIntent(q.id, 'cancelled');
    if (queued.length)
      await this.history.append(
        sessionId,
        queued.map((q) => ({
          type: 'intent_dequeued' as const,
          intentId: q.id,
          data: { intentId: q.id, reason },
        })),
        { activity: reason !== 'expired' },
      );
    // An expired session goes on: its head must not stay on a message that never ran.
    if (queued.length && reason !== 'closed')
      await this.branches.repairHead(sessionId, { activity: reason !== 'expired' });
    return queued.length;
  }

  /**
   * `intent:cancel`: one queued intent leaves (`intent_dequeued {reason: "user"}`); CONFLICT for
   * an intent that is not queued. When it was the head, the head goes back to the nearest intent
   * before it that ran or is still queued (`head_changed`).
   */
  async dequeue(sessionId: string, intentId: string, userId: string): Promise<void> {
    if (!isUuid(sessionId)) throw DomainError.notFound('Session');
    if (!isUuid(intentId)) throw DomainError.notFound('Intent');
    await this.history.transaction(
      sessionId,
      async (locked) => {
        if (locked?.userId !== userId) throw DomainError.notFound('Session');
        if (locked.status !== 'active')
          throw new DomainError('SESSION_CLOSED', 'This session is closed');
        const intent = await this.queue.branchIntent(sessionId, intentId);
        if (!intent) throw DomainError.notFound('Intent');
        if (
          intent.status !== 'queued' ||
          !(await this.runs.transitionIntent(intentId, 'cancelled'))
        )
          throw new DomainError('CONFLICT', `This intent is ${intent.status}, not queued`);
        await this.history.append(sessionId, [
          { type: 'intent_dequeued', intentId, data: { intentId, reason: 'user' } },
        ]);
        await this.branches.repairHead(sessionId);
      },
      userId,
    );
  }
}
