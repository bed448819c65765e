import { randomUUID } from 'node:crypto';
import {
  Inject,
  Injectable,
  Logger,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import { ClusterBus } from '../cluster/cluster-bus.js';
import { FaultPoints } from '../common/fault-points.js';
import type { CancelReason } from '../contracts/events.js';
import { RUN_IS_LIVE, RunLifecycle } from '../runs/run-lifecycle.service.js';
import { RunsStore } from '../runs/runs.store.js';

/** How long a cancel waits for the node that runs the run before ending it in the database. */
const REMOTE_CANCEL_WAIT_MS = 3000;
/** A cancel that keeps finding a freshly launched run here tries the live path again, this often. */
const MAX_CANCEL_ROUNDS = 3;

/**
 * Something that executes runs in this process (the agent orchestrator). Asked first, so it can
 * abort the model call and tools and write the run's closing events itself.
 */
export interface LiveRunCanceller {
  /** The session's run if it executes here, stopped, and whether this cancel is what ended it. */
  cancelLive(
    sessionId: string,
    reason: CancelReason,
  ): Promise<{ runId: string; won: boolean } | undefined>;
  /** Stops the session's run here without writing (it was ended in the database). */
  abandonLive(sessionId: string): void;
  /** Whether this process executes that run of the session. */
  executes(sessionId: string, runId: string): boolean;
}

/**
 * Ends a session's active run for a user, close, expiry or admin, wherever it runs. A run
 * executing here is stopped by the live canceller; one on another node by that node; if none
 * answers (no executor, or a dead or slow node) the lifecycle ends it as stored, with a checked
 * transition: whichever closing wins is the only one written.
 */
@Injectable()
export class RunControlService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(RunControlService.name);
  private live: LiveRunCanceller | undefined;
  private readonly waiting = new Map<string, (r: { runId: string; won: boolean }) => void>();
  private stopListening: (() => void) | undefined;

  constructor(
    @Inject(RunLifecycle) private readonly lifecycle: RunLifecycle,
    @Inject(RunsStore) private readonly store: RunsStore,
    @Inject(ClusterBus) private readonly cluster: ClusterBus,
    @Inject(FaultPoints) private readonly faults: FaultPoints,
  ) {}

  onModuleInit(): void {
    // Another node asks whoever runs the session's run to cancel it.
    this.stopListening = this.cluster.on((m) => {
      if (m.kind === 'cancel') {
        void Promise.resolve()
          .then(() => this.faults.hit('cluster.cancel'))
          .then(() => {
            // Another execution of the session here (a stale one that has not let go of an
            // ended run) is not the run asked about: only the run's own node answers.
            if (m.runId && !this.live?.executes(m.sessionId, m.runId)) return undefined;
            return this.live?.cancelLive(m.sessionId, m.reason as CancelReason);
          })
          .then(
            (r) => {
              if (r) this.cluster.publish({ kind: 'cancelled', requestId: m.requestId, ...r });
            },
            () => undefined,
          );
      } else if (m.kind === 'cancelled') {
        void Promise.resolve()
          .then(() => this.faults.hit('cluster.cancelled'))
          .then(
            () => this.waiting.get(m.requestId)?.(m),
            () => undefined,
          );
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
   * Cancels the active run (and any open interaction, including a retry offer). For `expired`
   * the intent becomes `abandoned` (so it can be resumed), otherwise `cancelled`. Returns the
   * run id when this call cancelled a run (task_cancelled is then in the log).
   */
  async cancelActive(sessionId: string, reason: CancelReason): Promise<string | undefined> {
    for (let round = 0; round < MAX_CANCEL_ROUNDS; round++) {
      const here = await this.live?.cancelLive(sessionId, reason);
      if (here?.won) return here.runId;
      // A run that ended otherwise first was cancelled by nobody; but a newer run of the session
      // may be committed and not launched yet (the execution here was the previous one).
      if (here && !(await this.store.activeRun(sessionId))) return undefined;
      const remote = here ? undefined : await this.cancelRemote(sessionId, reason);
      if (remote) return remote.won ? remote.runId : undefined;
      await this.faults.hit('cancel.not-live');
      const stored = await this.lifecycle.cancelSession(
        sessionId,
        reason,
        (runId) => this.live?.executes(sessionId, runId) ?? false,
      );
      if (stored !== RUN_IS_LIVE) return stored;
    }
    return undefined;
  }

  /** Stops a run executing here whose state another transaction has just ended. */
  abandonLive(sessionId: string): void {
    this.live?.abandonLive(sessionId);
  }

  /**
   * With several nodes: asks the node executing the session's active run to cancel it and waits
   * (at most REMOTE_CANCEL_WAIT_MS) for that node's reply about that run; undefined when none
   * came or the run executes here after all (the caller then ends it itself or as stored). Only
   * a reply naming the run read from the database counts: another node's stale execution of an
   * earlier run of the session may answer `won: false` (a node that predates the run id in the
   * request does), and that says nothing about this run. A `won: false` about this run means it
   * ended otherwise first; if a newer run has started since (a queued intent), that one is asked.
   */
  private async cancelRemote(
    sessionId: string,
    reason: CancelReason,
  ): Promise<{ runId: string; won: boolean } | undefined> {
    if (!this.cluster.enabled) return undefined;
    let reply: { runId: string; won: boolean } | undefined;
    for (let round = 0; round < MAX_CANCEL_ROUNDS; round++) {
      const active = await this.store.activeRun(sessionId);
      if (!active) return reply;
      // Executing here after all (the caller's live path), or still active although its node
      // lost the cancel (ended as stored by the caller).
      if (active.id === reply?.runId || this.live?.executes(sessionId, active.id)) return undefined;
      reply = await this.askOwner(sessionId, active.id, reason);
      if (!reply) {
        this.logger.warn(
          { sessionId, runId: active.id, nodeId: active.node_id },
          'no node answered a cancel; ending the run in the database',
        );
        return undefined;
      }
      if (reply.won) return reply;
    }
    return undefined;
  }

  /** Publishes a cancel of `runId`; resolves with its executing node's reply, or undefined. */
  private async askOwner(
    sessionId: string,
    runId: string,
    reason: CancelReason,
  ): Promise<{ runId: string; won: boolean } | undefined> {
    const requestId = randomUUID();
    const answered = new Promise<{ runId: string; won: boolean } | undefined>((resolve) => {
      const timer = setTimeout(() => resolve(undefined), REMOTE_CANCEL_WAIT_MS);
      this.waiting.set(requestId, (r) => {
        if (r.runId !== runId) return;
        clearTimeout(timer);
        resolve(r);
      });
    });
    this.cluster.publish({ kind: 'cancel', requestId, sessionId, reason, runId });
    try {
      return await answered;
    } finally {
      this.waiting.delete(requestId);
    }
  }
}
