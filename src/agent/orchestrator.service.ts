import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { ClusterBus } from '../cluster/cluster-bus.js';
import type { CancelReason, InteractionOutcome, NewEvent } from '../contracts/events.js';
import { Database } from '../database/database.js';
import { HistoryService } from '../history/history.service.js';
import { UsageService } from '../quotas/usage.service.js';
import { RunControlService } from '../sessions/run-control.service.js';
import { RunsRepository, type RunRow } from '../sessions/runs.repository.js';
import { AgentRepository, type Checkpoint } from './agent.repository.js';
import { InteractionHub } from './interaction-hub.js';
import { InteractionTimers } from './interaction-timers.js';
import { LLM_PROVIDER, type LlmProvider } from './providers/provider.js';
import type { RunDeps, RunSpec } from './run-deps.js';
import { RunExecution } from './run-execution.js';
import { ToolRegistry } from './tools/tool-registry.js';
import { ToolCallLedger } from './tools/tool-call.ledger.js';
import { ConversationContextBuilder } from './context/conversation-context.builder.js';
import { TOKEN_COUNTER } from './context/token-counter.factory.js';
import type { TokenCounter } from './context/token-counter.js';
import { QuotaGuard } from '../quotas/quota-guard.service.js';
import { interactionResolved } from '../sessions/interaction-events.js';

const SWEEP_MS = 1000;
/** Runs heartbeat every HEARTBEAT_MS; a run silent for STALE_AFTER_MS lost its node. With the
 * sweep every STALE_SWEEP_MS, other nodes mark it interrupted within 25 s (PROTOCOL: 30 s). */
const HEARTBEAT_MS = 5000;
const STALE_AFTER_MS = 20_000;
const STALE_SWEEP_MS = 5000;

/**
 * Owns the runs executing in this process: starts them, cancels them (also for session close,
 * expiry and admin, as RunControlService's live canceller), expires their questions, and at start
 * marks runs a previous process left behind as interrupted, offering a retry. With several nodes
 * it heartbeats its runs and marks those of nodes that went silent as interrupted.
 */
@Injectable()
export class OrchestratorService
  implements OnApplicationBootstrap, BeforeApplicationShutdown, OnModuleDestroy
{
  private readonly logger = new Logger(OrchestratorService.name);
  readonly nodeId = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  private readonly bySession = new Map<string, RunExecution>();
  private readonly deps: RunDeps;
  private sweeper: NodeJS.Timeout | undefined;
  private staleSweeper: NodeJS.Timeout | undefined;
  private readonly stopListening: () => void;
  private heartbeat: NodeJS.Timeout | undefined;
  private stopping = false;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    @Inject(Database) db: Database,
    @Inject(HistoryService) private readonly history: HistoryService,
    @Inject(AgentRepository) private readonly repo: AgentRepository,
    @Inject(RunsRepository) runs: RunsRepository,
    @Inject(UsageService) usage: UsageService,
    @Inject(InteractionHub) private readonly hub: InteractionHub,
    @Inject(InteractionTimers) private readonly timers: InteractionTimers,
    @Inject(LLM_PROVIDER) provider: LlmProvider,
    @Inject(ToolRegistry) tools: ToolRegistry,
    @Inject(RunControlService) runControl: RunControlService,
    @Inject(ClusterBus) private readonly cluster: ClusterBus,
    @Inject(ConversationContextBuilder) context: ConversationContextBuilder,
    @Inject(TOKEN_COUNTER) tokens: TokenCounter,
    @Inject(QuotaGuard) quotas: QuotaGuard,
    @Inject(ToolCallLedger) toolCalls: ToolCallLedger,
  ) {
    this.deps = {
      config,
      db,
      history,
      repo,
      runs,
      usage,
      hub,
      timers,
      provider,
      tools,
      context,
      tokens,
      quotas,
      toolCalls,
    };
    runControl.registerLiveCanceller({
      cancelLive: (sessionId, reason) => this.cancelLive(sessionId, reason),
    });
    timers.setHandler((id) => this.expireInteraction(id));
    this.stopListening = cluster.on((m) => {
      if (m.kind === 'answer')
        hub.deliver(m.interactionId, {
          outcome: m.outcome as InteractionOutcome,
          response: m.response,
        });
    });
  }

  get activeRuns(): number {
    return this.bySession.size;
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.recoverInterrupted();
    this.sweeper = setInterval(() => void this.sweepInteractions(), SWEEP_MS);
    this.sweeper.unref();
    this.heartbeat = setInterval(
      () => void this.repo.heartbeat(this.nodeId).catch(() => undefined),
      HEARTBEAT_MS,
    );
    this.heartbeat.unref();
    if (this.cluster.enabled) {
      this.staleSweeper = setInterval(() => void this.recoverInterrupted(), STALE_SWEEP_MS);
      this.staleSweeper.unref();
    }
  }

  /** Graceful shutdown: every live run ends with task_cancelled {reason: shutdown} (resumable). */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    clearInterval(this.sweeper);
    clearInterval(this.heartbeat);
    clearInterval(this.staleSweeper);
    await Promise.all([...this.bySession.values()].map((r) => r.cancel('shutdown')));
    this.timers.clearAll();
  }

  onModuleDestroy(): void {
    clearInterval(this.sweeper);
    clearInterval(this.heartbeat);
    clearInterval(this.staleSweeper);
    this.stopListening();
  }

  isLive(sessionId: string): boolean {
    return this.bySession.has(sessionId);
  }

  /** Creates a run row of the intent and executes it in the background. */
  launch(spec: RunSpec): void {
    if (this.stopping) return;
    const run = new RunExecution(spec, this.deps);
    this.bySession.set(spec.sessionId, run);
    void run.start(() => {
      if (this.bySession.get(spec.sessionId) === run) this.bySession.delete(spec.sessionId);
    });
  }

  newRunRow(
    r: {
      id: string;
      intentId: string;
      sessionId: string;
      userId: string;
      attempt: number;
      checkpoint: Checkpoint;
    },
    tx?: Parameters<AgentRepository['insertRun']>[1],
  ): Promise<RunRow> {
    return this.repo.insertRun({ ...r, nodeId: this.nodeId }, tx);
  }

  async cancelLive(sessionId: string, reason: CancelReason): Promise<string | undefined> {
    const run = this.bySession.get(sessionId);
    if (!run) return undefined;
    await run.cancel(reason);
    return run.spec.runId;
  }

  /**
   * An interaction reached its expires_at: resolve it `timeout` (if nobody answered first). A run
   * waiting on it here continues without the answer; an expired retry offer ends its intent failed.
   */
  async expireInteraction(interactionId: string): Promise<void> {
    try {
      const row = await this.deps.runs.resolveInteraction(
        interactionId,
        'timeout',
        null,
        undefined,
      );
      if (!row) return;
      await this.history.append(row.session_id, [interactionResolved(row, 'timeout')]);
      if (this.hub.deliver(interactionId, { outcome: 'timeout' })) return;
      if (row.kind === 'retry')
        await this.repo.setIntentStatus(row.intent_id, ['active'], 'failed');
      else this.cluster.publish({ kind: 'answer', interactionId, outcome: 'timeout' });
    } catch (err) {
      this.logger.error({ err, interactionId }, 'could not expire an interaction');
    }
  }

  private async sweepInteractions(): Promise<void> {
    try {
      for (const row of await this.repo.expiredUnresolved(100)) {
        if (!this.timers.has(row.id)) await this.expireInteraction(row.id);
      }
    } catch (err) {
      this.logger.warn({ err }, 'interaction sweep failed');
    }
  }

  /**
   * Runs left running/awaiting_input by a process that is gone become `interrupted`; their open
   * questions are cancelled and a retry is offered (task_failed with canRetry: true). Single node:
   * every such run is ours. With Redis: only runs whose owner stopped heart-beating.
   */
  private async recoverInterrupted(): Promise<void> {
    try {
      const interrupted = this.cluster.enabled
        ? await this.repo.interruptRuns({
            nodeId: this.nodeId,
            staleBefore: new Date(Date.now() - STALE_AFTER_MS),
          })
        : await this.repo.interruptRuns({ all: true });
      for (const run of interrupted) await this.offerRetryAfterInterruption(run);
      if (interrupted.length) {
        this.logger.warn({ runs: interrupted.map((r) => r.id) }, 'interrupted runs recovered');
      }
    } catch (err) {
      this.logger.error({ err }, 'recovering interrupted runs failed');
    }
  }

  async offerRetryAfterInterruption(run: RunRow): Promise<void> {
    const { config, db, repo, runs } = this.deps;
    const interactionId = crypto.randomUUID();
    const expiresAt = new Date(Date.now() + config.timeouts.retryMs);
    const data = {
      error: 'The run was interrupted: the server stopped while it was going',
      attempt: run.attempt,
      canRetry: true,
      interactionId,
    };
    const resolved = await db.transaction(async (tx) => {
      const open = await runs.resolveAllPending(run.session_id, 'cancelled', tx);
      await repo.insertInteraction(
        {
          id: interactionId,
          runId: run.id,
          intentId: run.intent_id,
          sessionId: run.session_id,
          kind: 'retry',
          payload: data,
          expiresAt,
        },
        tx,
      );
      return open;
    });
    this.timers.schedule(interactionId, expiresAt);
    const ids = { runId: run.id, intentId: run.intent_id };
    const events: NewEvent[] = [
      ...resolved.map((i) => interactionResolved(i, 'cancelled')),
      { type: 'task_failed', data, ...ids },
    ];
    await this.history.append(run.session_id, events);
  }
}
