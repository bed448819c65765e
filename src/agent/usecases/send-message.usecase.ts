import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../../config/app-config.js';
import { DomainError } from '../../common/domain-error.js';
import type { NewEvent } from '../../contracts/events.js';
import { Database } from '../../database/database.js';
import { PG_UNIQUE_VIOLATION, sqlState } from '../../database/sql-executor.js';
import { HistoryService } from '../../history/history.service.js';
import { RateLimitService } from '../../quotas/rate-limit.service.js';
import { UsageService } from '../../quotas/usage.service.js';
import { RunsRepository } from '../../sessions/runs.repository.js';
import { SessionsService } from '../../sessions/sessions.service.js';
import { AgentRepository } from '../agent.repository.js';
import { OrchestratorService } from '../orchestrator.service.js';
import { QuotaGuard } from '../../quotas/quota-guard.service.js';
import { checkContent } from './message-rules.js';
import { interactionResolved } from '../../sessions/interaction-events.js';

export interface SendMessageCommand {
  userId: string;
  sessionId: string;
  content: string;
  clientMessageId: string;
  connectionId?: string;
}

export interface SendMessageAck {
  intentId: string;
  runId: string;
  seq: number;
}

const ACK_WAIT_MS = 5000;

/**
 * message:send and POST /sessions/:id/messages: a new intent and its first run. The same
 * clientMessageId in the same session returns the first ack and does nothing else, also while
 * that run is going. A retry on offer is declined by the new message.
 */
@Injectable()
export class SendMessageUseCase {
  private readonly logger = new Logger(SendMessageUseCase.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(Database) private readonly db: Database,
    @Inject(SessionsService) private readonly sessions: SessionsService,
    @Inject(AgentRepository) private readonly repo: AgentRepository,
    @Inject(RunsRepository) private readonly runs: RunsRepository,
    @Inject(HistoryService) private readonly history: HistoryService,
    @Inject(RateLimitService) private readonly rateLimit: RateLimitService,
    @Inject(UsageService) private readonly usage: UsageService,
    @Inject(OrchestratorService) private readonly orchestrator: OrchestratorService,
    @Inject(QuotaGuard) private readonly quotas: QuotaGuard,
  ) {}

  async execute(cmd: SendMessageCommand): Promise<SendMessageAck> {
    const session = await this.sessions.requireOwned(cmd.userId, cmd.sessionId);
    const earlier = await this.repo.findClientMessage(session.id, cmd.clientMessageId);
    if (earlier) return this.awaitAck(session.id, cmd.clientMessageId, earlier);
    if (session.status !== 'active')
      throw new DomainError('SESSION_CLOSED', 'This session is closed');
    const content = checkContent(cmd.content, this.config.limits.maxMessageLength);
    await this.rateLimit.consumeMessage(cmd.userId);
    await this.usage.assertWithinQuota(cmd.userId);

    const intentId = randomUUID();
    const runId = randomUUID();
    const transcript = [{ role: 'user' as const, content }];
    let declined: Awaited<ReturnType<RunsRepository['resolveInteraction']>> | 'duplicate';
    try {
      declined = await this.db.transaction(async (tx) => {
        if (
          !(await this.repo.claimClientMessage(
            session.id,
            cmd.clientMessageId,
            { intentId, runId, seq: null },
            tx,
          ))
        ) {
          return 'duplicate' as const;
        }
        const retry = await this.repo.pendingRetryOfSession(session.id, tx);
        const resolved =
          retry &&
          (await this.runs.resolveInteraction(
            retry.id,
            'no_retry',
            cmd.connectionId ?? null,
            undefined,
            tx,
          ));
        if (resolved) await this.repo.setIntentStatus(resolved.intent_id, ['active'], 'failed', tx);
        await this.repo.insertIntent(
          { id: intentId, sessionId: session.id, userId: cmd.userId, content },
          tx,
        );
        await this.quotas.assertCanStartRun(tx, cmd.userId);
        await this.orchestrator.newRunRow(
          {
            id: runId,
            intentId,
            sessionId: session.id,
            userId: cmd.userId,
            attempt: 1,
            checkpoint: { transcript },
          },
          tx,
        );
        return resolved;
      });
    } catch (err) {
      if (sqlState(err) === PG_UNIQUE_VIOLATION) {
        throw new DomainError(
          'SESSION_BUSY',
          'A run of this session is still going; answer or cancel it first',
        );
      }
      throw err;
    }
    if (declined === 'duplicate') {
      const first = await this.repo.findClientMessage(session.id, cmd.clientMessageId);
      return this.awaitAck(session.id, cmd.clientMessageId, first ?? {});
    }

    const events: NewEvent[] = [];
    if (declined) events.push(interactionResolved(declined, 'no_retry', cmd.connectionId));
    events.push({
      type: 'user_message',
      data: { content, clientMessageId: cmd.clientMessageId },
      intentId,
      ...(cmd.connectionId ? { connectionId: cmd.connectionId } : {}),
    });
    const stored = await this.history.append(session.id, events);
    const ack = { intentId, runId, seq: stored[stored.length - 1].seq };
    await this.repo.completeClientMessage(session.id, cmd.clientMessageId, ack);
    await this.usage.record(cmd.userId, { messages: 1 });
    this.orchestrator.launch({
      runId,
      intentId,
      sessionId: session.id,
      userId: cmd.userId,
      attempt: 1,
      transcript,
    });
    this.logger.log(
      { userId: cmd.userId, sessionId: session.id, intentId, runId },
      'message accepted',
    );
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
