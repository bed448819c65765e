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
import type { CancelReason } from '../contracts/events.js';
import { RunControlService } from '../sessions/run-control.service.js';
import type { RunSpec } from './run-spec.js';
import type { RunExecution } from './run-execution.js';
import { RunFactory } from './run-factory.js';

/**
 * The runs executing in this process: launches them, cancels or abandons them, and cancels all
 * of them at shutdown. Heartbeats and takeover are RunFencing's, questions' timers and wake-ups
 * InteractionSweeper's; every state change is the RunLifecycle's.
 */
@Injectable()
export class OrchestratorService
  implements OnModuleInit, OnModuleDestroy, BeforeApplicationShutdown
{
  readonly nodeId = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  private readonly bySession = new Map<string, RunExecution>();
  private stopping = false;
  private stopListening: (() => void) | undefined;

  constructor(
    @Inject(RunFactory) private readonly factory: RunFactory,
    @Inject(RunControlService) runControl: RunControlService,
    @Inject(ClusterBus) private readonly cluster: ClusterBus,
  ) {
    runControl.registerLiveCanceller({
      cancelLive: (sessionId, reason) => this.cancelLive(sessionId, reason),
      abandonLive: (sessionId) => this.abandon(sessionId, 'ended elsewhere'),
      executes: (sessionId, runId) => this.bySession.get(sessionId)?.spec.runId === runId,
      executing: (sessionId) => this.bySession.get(sessionId)?.spec.runId,
    });
  }

  onModuleInit(): void {
    // A session closed on another node: its run was ended in the close's transaction, so an
    // execution of it here is stopped at once, without writing (the heartbeat would find out
    // later; until then it would go on calling the model for nothing).
    this.stopListening = this.cluster.on((m) => {
      if (m.kind === 'abandon') this.abandon(m.sessionId, 'session closed');
    });
  }

  onModuleDestroy(): void {
    this.stopListening?.();
  }

  get activeRuns(): number {
    return this.bySession.size;
  }

  isLive(sessionId: string): boolean {
    return this.bySession.has(sessionId);
  }

  /** The executions of this process (what its heartbeat may renew). */
  live(): RunExecution[] {
    return [...this.bySession.values()];
  }

  /**
   * Executes a run whose row is committed. Refused while shutting down: the row is then left to
   * the takeover sweep, which interrupts it and offers a retry.
   */
  launch(spec: RunSpec): boolean {
    if (this.stopping) return false;
    const run = this.factory.create(spec);
    this.bySession.set(spec.sessionId, run);
    void run.start(() => {
      if (this.bySession.get(spec.sessionId) === run) this.bySession.delete(spec.sessionId);
    });
    return true;
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

  /** Stops a run here without writing (its state was changed by another writer). */
  abandon(sessionId: string, why: string): void {
    this.bySession.get(sessionId)?.abandon(why);
  }

  /** Graceful shutdown: every live run ends with task_cancelled {reason: shutdown} (resumable). */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    await Promise.all([...this.bySession.values()].map((r) => r.cancel('shutdown')));
  }
}
