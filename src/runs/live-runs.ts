import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import { ClusterBus } from '../cluster/cluster-bus.js';
import { FaultPoints } from '../common/fault-points.js';
import type { CancelReason } from '../contracts/events.js';
import type { LiveExecution } from './run-executor.js';

/**
 * The runs executing in this process, one per session: registers them as RunLauncher starts
 * them, cancels or abandons them, and cancels all of them at shutdown. Heartbeats and takeover
 * are RunFencing's, questions' timers and wake-ups InteractionSweeper's; every state change is
 * the RunLifecycle's.
 */
@Injectable()
export class LiveRuns implements OnModuleInit, OnModuleDestroy, BeforeApplicationShutdown {
  readonly nodeId = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  private readonly bySession = new Map<string, LiveExecution>();
  private stopping = false;
  private stopListening: (() => void) | undefined;

  constructor(
    @Inject(ClusterBus) private readonly cluster: ClusterBus,
    @Inject(FaultPoints) private readonly faults: FaultPoints,
  ) {}

  onModuleInit(): void {
    // A session closed on another node: its run was ended in the close's transaction, so an
    // execution of it here is stopped at once, without writing (the heartbeat would find out
    // later; until then it would go on calling the model for nothing).
    this.stopListening = this.cluster.on((m) => {
      if (m.kind !== 'abandon') return;
      void Promise.resolve()
        .then(() => this.faults.hit('cluster.abandon'))
        .then(
          () =>
            this.abandon(m.sessionId, m.runId ? 'run ended elsewhere' : 'session closed', m.runId),
          () => undefined,
        );
    });
  }

  onModuleDestroy(): void {
    this.stopListening?.();
  }

  get activeRuns(): number {
    return this.bySession.size;
  }

  get accepting(): boolean {
    return !this.stopping;
  }

  isLive(sessionId: string): boolean {
    return this.bySession.has(sessionId);
  }

  /** The executions of this process (what its heartbeat may renew). */
  live(): LiveExecution[] {
    return [...this.bySession.values()];
  }

  /** Whether this process executes that run of the session. */
  executes(sessionId: string, runId: string): boolean {
    return this.bySession.get(sessionId)?.spec.runId === runId;
  }

  /** The run of the session this process executes, if any. */
  executing(sessionId: string): string | undefined {
    return this.bySession.get(sessionId)?.spec.runId;
  }

  /** Starts an execution and keeps it until it lets go of its run. */
  start(run: LiveExecution): void {
    const { sessionId } = run.spec;
    this.bySession.set(sessionId, run);
    void run.start(() => {
      if (this.bySession.get(sessionId) === run) this.bySession.delete(sessionId);
    });
  }

  /** Cancels the session's run if it executes here: its id, and whether this cancel ended it. */
  async cancelLive(
    sessionId: string,
    reason: CancelReason,
  ): Promise<{ runId: string; won: boolean } | undefined> {
    const run = this.bySession.get(sessionId);
    if (!run) return undefined;
    const won = await run.cancel(reason);
    return { runId: run.spec.runId, won };
  }

  /**
   * Stops a run here without writing (its state was changed by another writer): the session's,
   * or only the given run (an interrupting send ends one run and starts the next at once).
   */
  abandon(sessionId: string, why: string, runId?: string): void {
    const run = this.bySession.get(sessionId);
    if (run && (runId === undefined || run.spec.runId === runId)) run.abandon(why);
  }

  /**
   * Graceful shutdown: every live run ends with task_cancelled {reason: shutdown} (resumable),
   * except those waiting on a question, which are parked for another node (or the next start).
   */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    await Promise.all([...this.bySession.values()].map((r) => r.shutdown()));
  }
}
