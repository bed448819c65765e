import { randomUUID } from 'node:crypto';
import {
  Inject,
  Injectable,
  Logger,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import { ClusterBus } from '../cluster/cluster-bus.js';
import type { CancelReason, NewEvent } from '../contracts/events.js';
import { Database } from '../database/database.js';
import { HistoryService } from '../history/history.service.js';
import { RunsRepository } from './runs.repository.js';
import { interactionResolved } from './interaction-events.js';

/** How long a cancel waits for the node that runs the run before ending it in the database. */
const REMOTE_CANCEL_WAIT_MS = 3000;

/**
 * Something that executes runs in this process (the agent orchestrator). Asked first, so it can
 * abort the model call and tools and write the run's closing events itself.
 */
export interface LiveRunCanceller {
  /** Returns the run id if this process was executing the session's run and has now stopped it. */
  cancelLive(sessionId: string, reason: CancelReason): Promise<string | undefined>;
}

/**
 * Ends a session's active run for close/expiry/admin, wherever it is. A run executing here is
 * stopped by the live canceller; otherwise (no executor, or it lives on a dead node) the stored
 * state is ended directly and the closing events are written.
 */
@Injectable()
export class RunControlService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(RunControlService.name);
  private live: LiveRunCanceller | undefined;
  private readonly waiting = new Map<string, (runId: string) => void>();
  private stopListening: (() => void) | undefined;

  constructor(
    @Inject(Database) private readonly db: Database,
    @Inject(RunsRepository) private readonly runs: RunsRepository,
    @Inject(HistoryService) private readonly history: HistoryService,
    @Inject(ClusterBus) private readonly cluster: ClusterBus,
  ) {}

  onModuleInit(): void {
    // Another node asks whoever runs the session's run to cancel it.
    this.stopListening = this.cluster.on((m) => {
      if (m.kind === 'cancel') {
        void this.live?.cancelLive(m.sessionId, m.reason as CancelReason).then((runId) => {
          if (runId) this.cluster.publish({ kind: 'cancelled', requestId: m.requestId, runId });
        });
      } else if (m.kind === 'cancelled') {
        this.waiting.get(m.requestId)?.(m.runId);
      }
    });
  }

  onModuleDestroy(): void {
    this.stopListening?.();
  }

  registerLiveCanceller(canceller: LiveRunCanceller): void {
    this.live = canceller;
  }

  /**
   * Cancels the active run (and any open interaction, including a retry offer). For `expired` the
   * intent becomes `abandoned` (so it can be resumed), otherwise `cancelled`.
   */
  async cancelActive(sessionId: string, reason: CancelReason): Promise<string | undefined> {
    const live = await this.live?.cancelLive(sessionId, reason);
    if (live) return live;
    const remote = await this.cancelRemote(sessionId, reason);
    if (remote) return remote;
    const intentStatus = reason === 'expired' ? 'abandoned' : 'cancelled';
    const done = await this.db.transaction(async (tx) => {
      const run = await this.runs.activeRun(sessionId, tx);
      const resolved = await this.runs.resolveAllPending(sessionId, 'cancelled', tx);
      if (run) await this.runs.endRun(run.id, 'cancelled', tx);
      const intentIds = new Set([
        ...(run ? [run.intent_id] : []),
        ...resolved.map((i) => i.intent_id),
      ]);
      for (const id of intentIds) await this.runs.endIntent(id, intentStatus, tx);
      return { run, resolved };
    });
    const events: NewEvent[] = done.resolved.map((i) => interactionResolved(i, 'cancelled'));
    if (done.run) {
      events.push({
        type: 'task_cancelled',
        data: { reason },
        runId: done.run.id,
        intentId: done.run.intent_id,
      });
    }
    if (events.length > 0)
      await this.history.append(sessionId, events, { activity: reason !== 'expired' });
    return done.run?.id;
  }

  /** With several nodes: asks the node running the session's run to cancel it; waits briefly. */
  private async cancelRemote(sessionId: string, reason: CancelReason): Promise<string | undefined> {
    if (!this.cluster.enabled) return undefined;
    const active = await this.runs.activeRun(sessionId);
    if (!active) return undefined;
    const requestId = randomUUID();
    const answered = new Promise<string | undefined>((resolve) => {
      const timer = setTimeout(() => resolve(undefined), REMOTE_CANCEL_WAIT_MS);
      this.waiting.set(requestId, (runId) => {
        clearTimeout(timer);
        resolve(runId);
      });
    });
    this.cluster.publish({ kind: 'cancel', requestId, sessionId, reason });
    const runId = await answered;
    this.waiting.delete(requestId);
    if (!runId) {
      this.logger.warn(
        { sessionId, runId: active.id, nodeId: active.node_id },
        'no node answered a cancel; ending the run in the database',
      );
    }
    return runId;
  }
}
