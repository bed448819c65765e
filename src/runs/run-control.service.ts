import { randomUUID } from 'node:crypto';
import {
  Inject,
  Injectable,
  Logger,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import { ClusterBus, type ClusterMessage } from '../cluster/cluster-bus.js';
import { FaultPoints } from '../common/fault-points.js';
import type { CancelReason } from '../contracts/events.js';
import { RUN_IS_LIVE, RunLifecycle } from './run-lifecycle.service.js';
import { LiveRuns } from './live-runs.js';
import { RunsStore } from './runs.store.js';

/** How long a cancel waits for the node that runs the run before ending it in the database. */
const REMOTE_CANCEL_WAIT_MS = 3000;
/** A cancel that keeps finding a freshly launched run here tries the live path again, this often. */
const MAX_CANCEL_ROUNDS = 3;

type CancelRequest = Extract<ClusterMessage, { kind: 'cancel' }>;
type CancelReply = Extract<ClusterMessage, { kind: 'cancelled' | 'not-executing' }>;

/**
 * What asking the run's node came to: its reply about the run, or (`asked`) no reply that decides
 * it, about the run last asked about (the caller then ends it as stored, or finds it ended).
 */
type RemoteOutcome = { runId: string; won: boolean } | { asked: string };

/**
 * Ends a session's active run for a user, close, expiry or admin, wherever it runs. A run
 * executing here is stopped through LiveRuns; one on another node by that node; if none
 * answers (no executor, or a dead or slow node) the lifecycle ends it as stored, with a checked
 * transition: whichever closing wins is the only one written.
 */
@Injectable()
export class RunControlService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(RunControlService.name);
  private readonly waiting = new Map<string, (reply: CancelReply) => void>();
  private stopListening: (() => void) | undefined;

  constructor(
    @Inject(RunLifecycle) private readonly lifecycle: RunLifecycle,
    @Inject(RunsStore) private readonly store: RunsStore,
    @Inject(ClusterBus) private readonly cluster: ClusterBus,
    @Inject(FaultPoints) private readonly faults: FaultPoints,
    @Inject(LiveRuns) private readonly live: LiveRuns,
  ) {}

  onModuleInit(): void {
    // Another node asks whoever runs the session's run to cancel it.
    this.stopListening = this.cluster.on((m) => {
      if (m.kind === 'cancel') {
        void Promise.resolve()
          .then(() => this.faults.hit('cluster.cancel'))
          .then(() => this.answerCancel(m))
          .catch(() => undefined);
      } else if (m.kind === 'cancelled' || m.kind === 'not-executing') {
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

  /**
   * Cancels the active run (and any open interaction, including a retry offer). For `expired`
   * the intent becomes `abandoned` (so it can be resumed), otherwise `cancelled`. Returns the
   * run id when this call cancelled a run (task_cancelled is then in the log).
   */
  async cancelActive(sessionId: string, reason: CancelReason): Promise<string | undefined> {
    for (let round = 0; round < MAX_CANCEL_ROUNDS; round++) {
      const here = await this.live.cancelLive(sessionId, reason);
      if (here?.won) return here.runId;
      // A run that ended otherwise first was cancelled by nobody; but a newer run of the session
      // may be committed and not launched yet (the execution here was the previous one).
      if (here && !(await this.store.activeRun(sessionId))) return undefined;
      const remote = here ? undefined : await this.cancelRemote(sessionId, reason);
      if (remote && 'won' in remote) return remote.won ? remote.runId : undefined;
      await this.faults.hit('cancel.not-live');
      const stored = await this.lifecycle.cancelSession(sessionId, reason, (runId) =>
        this.live.executes(sessionId, runId),
      );
      if (stored === undefined && remote) return this.endedByRequest(remote.asked, reason);
      if (stored === RUN_IS_LIVE) continue;
      // Ended as stored: an execution of it that nobody asked (a node that adopted it from
      // parked since it was read, a slow node) stops without writing, wherever it is.
      if (stored) this.stopElsewhere(sessionId, stored);
      return stored;
    }
    return undefined;
  }

  private stopElsewhere(sessionId: string, runId: string): void {
    this.live.abandon(sessionId, 'ended as stored', runId);
    this.cluster.publish({ kind: 'abandon', sessionId, runId });
  }

  /** Stops a run executing here whose state another transaction has just ended. */
  abandonLive(sessionId: string, runId?: string): void {
    this.live.abandon(sessionId, 'ended elsewhere', runId);
  }

  /**
   * After an owner that did not answer in time: the run asked about has ended, and nothing is
   * active now. Its node may have cancelled it for this very request, the reply late or lost; so
   * a run found cancelled with this request's reason is this request's doing (acked with its id).
   * The run was active when this request read it, so that cancel came after the request began;
   * the only other cancels it can be are ones with the same reason, which asked for the same
   * thing (another tab's cancel, or the user's close, for `user`). Anything else: undefined.
   */
  private async endedByRequest(runId: string, reason: CancelReason): Promise<string | undefined> {
    return (await this.store.cancelReason(runId)) === reason ? runId : undefined;
  }

  /** A cancel asked of this node: only the node executing the run asked about acts on it. */
  private async answerCancel(m: CancelRequest): Promise<void> {
    const executing = this.live.executing(m.sessionId);
    if (!executing) return;
    if (m.runId && executing !== m.runId) {
      // A newer run of the session executes here (the one asked about ended meanwhile), or a
      // stale execution of an earlier one: either way, say so, so the canceller reads the
      // session's active run again at once instead of waiting for a reply that never comes.
      this.cluster.publish({
        kind: 'not-executing',
        requestId: m.requestId,
        runId: m.runId,
        executing,
      });
      return;
    }
    const r = await this.live.cancelLive(m.sessionId, m.reason as CancelReason);
    if (r) this.cluster.publish({ kind: 'cancelled', requestId: m.requestId, ...r });
  }

  /**
   * With several nodes: asks the node executing the session's active run to cancel it and waits
   * (at most REMOTE_CANCEL_WAIT_MS) for that node's reply about that run; undefined when there
   * is no cluster or the run executes here after all (the caller's live path), else the reply,
   * or `asked` when none decided it (the caller then ends the run as stored, or finds it ended).
   * Only a reply naming the run read from the database counts: another node's stale execution
   * of an earlier run of the session may answer `won: false` (a node that predates the run id
   * in the request does), and that says nothing about this run. A `won: false` about this run
   * means it ended otherwise first; if a newer run has started since (a queued intent), that one
   * is asked, as it is when a node answers that it executes another run of the session and the
   * active run has indeed changed.
   */
  private async cancelRemote(
    sessionId: string,
    reason: CancelReason,
  ): Promise<RemoteOutcome | undefined> {
    if (!this.cluster.enabled) return undefined;
    let asked: string | undefined;
    let refused: { runId: string; won: boolean } | undefined;
    for (let round = 0; round < MAX_CANCEL_ROUNDS; round++) {
      const active = await this.store.activeRun(sessionId);
      if (!active) return refused ?? (asked ? { asked } : undefined);
      // Executing here after all (the caller's live path), or still active although its node
      // lost the cancel (ended as stored by the caller).
      if (this.live.executes(sessionId, active.id)) return undefined;
      if (active.id === refused?.runId) return { asked: active.id };
      asked = active.id;
      // A parked run is executed by no node: nobody to ask.
      if (active.parked_at) return { asked };
      const reply = await this.askOwner(sessionId, active.id, reason);
      if (reply === undefined) {
        this.logger.warn(
          { sessionId, runId: active.id, nodeId: active.node_id },
          'no node answered a cancel in time; ending the run in the database',
        );
        return { asked };
      }
      if (reply === 'moved') {
        refused = undefined;
      } else if (reply.won) {
        return reply;
      } else {
        refused = reply;
      }
    }
    return asked ? { asked } : undefined;
  }

  /**
   * Publishes a cancel of `runId`; resolves with its executing node's reply, `moved` once a node
   * says it executes another run of the session and the session's active run is no longer
   * `runId`, or undefined after REMOTE_CANCEL_WAIT_MS.
   */
  private async askOwner(
    sessionId: string,
    runId: string,
    reason: CancelReason,
  ): Promise<{ runId: string; won: boolean } | 'moved' | undefined> {
    const requestId = randomUUID();
    const answered = new Promise<{ runId: string; won: boolean } | 'moved' | undefined>(
      (resolve) => {
        const timer = setTimeout(() => resolve(undefined), REMOTE_CANCEL_WAIT_MS);
        const done = (r: { runId: string; won: boolean } | 'moved'): void => {
          clearTimeout(timer);
          resolve(r);
        };
        this.waiting.set(requestId, (r) => {
          if (r.runId !== runId) return;
          if (r.kind === 'cancelled') return done({ runId: r.runId, won: r.won });
          // A stale execution says the same as the run's new owner: only the database tells
          // them apart. While the run is still active, its own node may yet answer.
          void this.store.activeRun(sessionId).then(
            (active) => {
              if (active?.id !== runId) done('moved');
            },
            () => undefined,
          );
        });
      },
    );
    this.cluster.publish({ kind: 'cancel', requestId, sessionId, reason, runId });
    try {
      return await answered;
    } finally {
      this.waiting.delete(requestId);
    }
  }
}
