import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../../config/app-config.js';
import { DomainError } from '../../common/domain-error.js';
import type { NewEvent } from '../../contracts/events.js';
import { PG_UNIQUE_VIOLATION, sqlState } from '../../database/sql-executor.js';
import { HistoryService } from '../../history/history.service.js';
import { RateLimitService } from '../../quotas/rate-limit.service.js';
import { UsageService } from '../../quotas/usage.service.js';
import { FaultPoints } from '../../common/fault-points.js';
import { InteractionLifecycle } from '../../runs/interaction-lifecycle.service.js';
import { RunLifecycle } from '../../runs/run-lifecycle.service.js';
import { RunsStore } from '../../runs/runs.store.js';
import { AgentRepository } from '../agent.repository.js';
import { RunLauncher } from '../../runs/run-launcher.js';
import { QuotaGuard } from '../../quotas/quota-guard.service.js';
import { isUuid } from '../../common/uuid.js';
import { checkContent } from './message-rules.js';
import type { MessageAccepted } from '../../contracts/rest.js';

export interface SendMessageCommand {
  userId: string;
  sessionId: string;
  content: string;
  clientMessageId: string;
  connectionId?: string;
}

/** The ack of `message:send` and its REST twin. */
export type SendMessageAck = MessageAccepted;

const ACK_WAIT_MS = 5000;

const busy = (): DomainError =>
  new DomainError(
    'SESSION_BUSY',
    'A run of this session is still going; answer or cancel it first',
  );

/**
 * message:send and POST /sessions/:id/messages: a new intent and its first run, in ONE
 * transaction under the session row lock: the idempotency claim, the closed and busy checks, the
 * daily quota, declining a retry on offer, the concurrent-runs cap, the intent and the run (one
 * statement), user_message (through the history outbox), the message count and, last, the rate
 * limit (only a send that passed everything else draws from the per-minute budget). Before all of
 * it, a user blocked for the minute is refused without a lock (a read that counts nothing). The
 * same clientMessageId in the same session returns the first ack and does nothing else:
 * the claim, the first statement after the lock, finds it (no lookup before: a fresh send would pay
 * a round trip for it).
 */
@Injectable()
export class SendMessageUseCase {
  private readonly logger = new Logger(SendMessageUseCase.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(AgentRepository) private readonly repo: AgentRepository,
    @Inject(RunsStore) private readonly store: RunsStore,
    @Inject(RunLifecycle) private readonly lifecycle: RunLifecycle,
    @Inject(InteractionLifecycle) private readonly interactions: InteractionLifecycle,
    @Inject(HistoryService) private readonly history: HistoryService,
    @Inject(RateLimitService) private readonly rateLimit: RateLimitService,
    @Inject(UsageService) private readonly usage: UsageService,
    @Inject(RunLauncher) private readonly launcher: RunLauncher,
    @Inject(FaultPoints) private readonly faults: FaultPoints,
    @Inject(QuotaGuard) private readonly quotas: QuotaGuard,
  ) {}

  async execute(cmd: SendMessageCommand): Promise<SendMessageAck> {
    // Ownership is checked by the lock itself (another user's row is neither settled nor locked).
    if (!isUuid(cmd.sessionId)) throw DomainError.notFound('Session');
    const session = { id: cmd.sessionId.toLowerCase() };
    // A user blocked for the minute is refused here, before any lock or write (the draw, last in
    // the transaction, only counts sends that succeed); a resend of a send already accepted still
    // gets its first ack (one indexed read, paid only while blocked).
    try {
      await this.rateLimit.assertNotBlockedForMessages(cmd.userId);
    } catch (err) {
      const first = await this.repo.findOwnClientMessage(
        session.id,
        cmd.clientMessageId,
        cmd.userId,
      );
      if (!first) throw err;
      return this.awaitAck(session.id, cmd.clientMessageId, first);
    }
    const run = {
      runId: randomUUID(),
      intentId: randomUUID(),
      sessionId: session.id,
      userId: cmd.userId,
      attempt: 1,
    };
    let content = '';
    let ack: SendMessageAck | 'duplicate';
    try {
      ack = await this.history.transaction(
        session.id,
        async (locked) => {
          if (locked?.userId !== cmd.userId) throw DomainError.notFound('Session');
          content = checkContent(cmd.content, this.config.limits.maxMessageLength);
          const fresh = { intentId: run.intentId, runId: run.runId, seq: null };
          if (!(await this.repo.claimClientMessage(session.id, cmd.clientMessageId, fresh)))
            return 'duplicate' as const;
          if (locked?.status !== 'active')
            throw new DomainError('SESSION_CLOSED', 'This session is closed');
          await this.faults.hit('send.locked');
          if (await this.store.activeRun(session.id)) throw busy();
          await this.usage.assertWithinQuota(cmd.userId);
          const events: NewEvent[] = [];
          for (const offer of await this.store.pendingOf({ sessionId: session.id, kind: 'retry' }))
            await this.interactions.resolveInTx(session.id, offer.id, 'no_retry', cmd);
          await this.quotas.assertCanStartRun(cmd.userId);
          await this.lifecycle.startIntent(run, content, this.launcher.nodeId, {
            transcript: [{ role: 'user', content }],
          });
          events.push({
            type: 'user_message',
            data: { content, clientMessageId: cmd.clientMessageId },
            intentId: run.intentId,
            ...(cmd.connectionId ? { connectionId: cmd.connectionId } : {}),
          });
          const stored = await this.history.append(session.id, events);
          const done = { intentId: run.intentId, runId: run.runId, seq: stored[0].seq };
          await this.repo.completeClientMessage(session.id, cmd.clientMessageId, done);
          // Counted with the send's own commit, on the connection it already holds.
          await this.usage.record(cmd.userId, { messages: 1 });
          // Last, once every check passed and every write succeeded: a send refused for any other
          // reason leaves the budget alone. The storage's check-and-add is atomic, so concurrent
          // sends still get at most the budget between them.
          await this.rateLimit.consumeMessage(cmd.userId);
          return done;
        },
        cmd.userId,
      );
    } catch (err) {
      if (sqlState(err) === PG_UNIQUE_VIOLATION) throw busy();
      throw err;
    }
    if (ack === 'duplicate') {
      const first = await this.repo.findClientMessage(session.id, cmd.clientMessageId);
      return this.awaitAck(session.id, cmd.clientMessageId, first ?? {});
    }
    await this.faults.hit('run.before-launch');
    this.launcher.launch({ ...run, transcript: [{ role: 'user', content }] });
    this.logger.log({ ...run, userId: cmd.userId }, 'message accepted');
    return ack;
  }

  /** The first send's ack; if that send is still writing its user_message, wait for its seq. */
  private async awaitAck(
    sessionId: string,
    clientMessageId: string,
    ack: Record<string, unknown>,
  ): Promise<SendMessageAck> {
    const deadline = Date.now() + ACK_WAIT_MS;
    let current = ack;
    while (typeof current.seq !== 'number' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
      current = (await this.repo.findClientMessage(sessionId, clientMessageId)) ?? current;
    }
    if (typeof current.seq !== 'number') {
      throw new DomainError(
        'CONFLICT',
        'The first message with this clientMessageId is still being processed',
      );
    }
    return current as unknown as SendMessageAck;
  }
}
