import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../../config/app-config.js';
import { DomainError } from '../../common/domain-error.js';
import { PG_UNIQUE_VIOLATION, sqlState } from '../../database/sql-executor.js';
import { HistoryService } from '../../history/history.service.js';
import { QuotaPolicy } from '../../quotas/quota-policy.service.js';
import { FaultPoints } from '../../common/fault-points.js';
import { AgentRepository } from '../agent.repository.js';
import type { RunSpec } from '../../runs/run-spec.js';
import { isUuid } from '../../common/uuid.js';
import { checkContent } from './message-rules.js';
import { busyForMessage, RunStarts } from './run-starts.js';
import type { MessageAccepted } from '../../contracts/rest.js';
import type { IfBusyPolicy } from '../../contracts/events.js';
import { QueueStore } from '../../runs/queue.store.js';
import { BusySession } from './busy-session.js';
import { SessionBranches } from '../../runs/session-branches.js';

export interface SendMessageCommand {
  userId: string;
  sessionId: string;
  content: string;
  clientMessageId: string;
  connectionId?: string;
  ifBusy?: IfBusyPolicy;
  parentIntentId?: string | null;
}

/** The ack of `message:send` and its REST twin. */
export type SendMessageAck = MessageAccepted;

interface Accepted {
  ack: SendMessageAck;
  /** The run to launch once committed; none when the intent was queued. */
  spec: RunSpec | undefined;
}

const ACK_WAIT_MS = 5000;

/**
 * message:send and POST /sessions/:id/messages: a new intent and its first run, in ONE
 * transaction under the session row lock: the idempotency claim, the closed and busy checks, the
 * daily quota and the concurrent-runs cap (QuotaPolicy.admitRun), declining a retry on offer, the
 * intent and the run (one statement; RunStarts.first), user_message (through the history outbox), the message count and, last, the rate
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
    @Inject(HistoryService) private readonly history: HistoryService,
    @Inject(QuotaPolicy) private readonly quotas: QuotaPolicy,
    @Inject(RunStarts) private readonly starts: RunStarts,
    @Inject(FaultPoints) private readonly faults: FaultPoints,
    @Inject(SessionBranches) private readonly branches: SessionBranches,
    @Inject(QueueStore) private readonly queue: QueueStore,
    @Inject(BusySession) private readonly busy: BusySession,
  ) {}

  async execute(cmd: SendMessageCommand): Promise<SendMessageAck> {
    // Ownership is checked by the lock itself (another user's row is neither settled nor locked).
    if (!isUuid(cmd.sessionId)) throw DomainError.notFound('Session');
    const session = { id: cmd.sessionId.toLowerCase() };
    // A user blocked for the minute is refused here, before any lock or write (the draw, last in
    // the transaction, only counts sends that succeed); a resend of a send already accepted still
    // gets its first ack (one indexed read, paid only while blocked).
    try {
      await this.quotas.assertMayMessage(cmd.userId);
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
    let accepted: Accepted | 'duplicate';
    try {
      accepted = await this.history.transaction(
        session.id,
        async (locked) => {
          if (locked?.userId !== cmd.userId) throw DomainError.notFound('Session');
          const content = checkContent(cmd.content, this.config.limits.maxMessageLength);
          const fresh = { intentId: run.intentId, runId: run.runId, seq: null };
          if (!(await this.repo.claimClientMessage(session.id, cmd.clientMessageId, fresh)))
            return 'duplicate' as const;
          if (locked?.status !== 'active')
            throw new DomainError('SESSION_CLOSED', 'This session is closed');
          await this.faults.hit('send.locked');
          const parentIntentId = await this.branches.parentFor(session.id, cmd.parentIntentId);
          const queueAt = await this.busy.admit(session.id, cmd.userId, cmd.ifBusy ?? 'reject');
          if (!queueAt) {
            await this.quotas.admitRun(cmd.userId);
            // The session shows one dialog: a retry on offer closes before the new message.
            await this.starts.declineOffers(session.id, { connectionId: cmd.connectionId });
          }
          const stored = await this.history.append(session.id, [
            {
              type: 'user_message',
              data: {
                content,
                clientMessageId: cmd.clientMessageId,
                parentIntentId,
                ...(queueAt ? { queued: true as const } : {}),
              },
              intentId: run.intentId,
              ...(cmd.connectionId ? { connectionId: cmd.connectionId } : {}),
            },
          ]);
          const message = { content, parentIntentId, seq: stored[0].seq };
          let ack: SendMessageAck;
          let spec: RunSpec | undefined;
          if (queueAt) {
            await this.queue.insertIntent({
              ...message,
              id: run.intentId,
              sessionId: session.id,
              userId: cmd.userId,
              messageSeq: message.seq,
              status: 'queued',
            });
            ack = { intentId: run.intentId, runId: null, seq: message.seq, queued: true };
            ack.position = queueAt;
          } else {
            spec = await this.starts.first(run, message);
            ack = { intentId: run.intentId, runId: run.runId, seq: message.seq };
          }
          await this.branches.moveHead(session.id, run.intentId);
          await this.repo.completeClientMessage(session.id, cmd.clientMessageId, ack);
          // Counted with the send's own commit, on the connection it already holds; drawn from
          // the per-minute budget last (QuotaPolicy.chargeMessage).
          await this.quotas.chargeMessage(cmd.userId);
          return { ack, spec };
        },
        cmd.userId,
      );
    } catch (err) {
      if (sqlState(err) === PG_UNIQUE_VIOLATION) throw busyForMessage();
      throw err;
    }
    if (accepted === 'duplicate') {
      const first = await this.repo.findClientMessage(session.id, cmd.clientMessageId);
      return this.awaitAck(session.id, cmd.clientMessageId, first ?? {});
    }
    if (accepted.spec) {
      await this.faults.hit('run.before-launch');
      this.starts.launch(accepted.spec);
    }
    this.logger.log(
      { ...run, runId: accepted.ack.runId, queued: accepted.ack.queued === true },
      'message accepted',
    );
    return accepted.ack;
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
