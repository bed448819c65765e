import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import type { CancelReason, EventDataMap, NewEvent, ThinkingStep } from '../contracts/events.js';
import type { InteractionAnswer } from './interaction-hub.js';
import type { ToolCall, TranscriptMessage } from './providers/provider.js';
import { AgentFailure, RunCancelled, type RunDeps, type RunSpec } from './run-deps.js';
import { abortable } from './tools/tool.js';
import { runTool } from './run-tool.js';
import { interactionResolved } from '../sessions/interaction-events.js';
import { UsageMeter } from '../quotas/usage-meter.js';
import { DomainError } from '../common/domain-error.js';
import type { ConversationContext } from './context/conversation-context.builder.js';
import { toolCallKey } from './tools/tool-call.ledger.js';

const MAX_TOOL_ROUNDS = 4;

/**
 * One attempt of the agent at an intent: a state machine persisted in `runs`
 * (running → awaiting_input → running → completed | cancelled | failed). Every step is told as
 * `thinking` events; response text streams as coalesced `generating` events; pauses are
 * interactions. Cancellation is the AbortSignal, which reaches the model call and the tool.
 */
export class RunExecution {
  private readonly logger = new Logger(RunExecution.name);
  private readonly controller = new AbortController();
  private cancelReason: CancelReason | undefined;
  private step: ThinkingStep | undefined;
  private readonly meter: UsageMeter;
  private done: Promise<void> | undefined;

  constructor(
    readonly spec: RunSpec,
    private readonly deps: RunDeps,
  ) {
    this.meter = new UsageMeter(deps.usage, spec.userId, deps.tokens);
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  start(onFinished: () => void): Promise<void> {
    this.done ??= this.execute().finally(onFinished);
    return this.done;
  }

  /** Stops the run; resolves once its closing events are written. */
  async cancel(reason: CancelReason): Promise<void> {
    if (!this.cancelReason) {
      this.cancelReason = reason;
      this.controller.abort(new RunCancelled(reason));
    }
    await this.done;
  }

  private get ids(): { runId: string; intentId: string } {
    return { runId: this.spec.runId, intentId: this.spec.intentId };
  }

  async append(events: NewEvent[]): Promise<void> {
    await this.deps.history.append(
      this.spec.sessionId,
      events.map((e) => ({ ...e, ...this.ids })),
    );
  }

  async thinking(
    step: ThinkingStep,
    status: EventDataMap['thinking']['status'],
    detail?: string,
  ): Promise<void> {
    this.step = status === 'started' ? step : undefined;
    await this.append([
      { type: 'thinking', data: { step, status, ...(detail !== undefined ? { detail } : {}) } },
    ]);
  }

  private async execute(): Promise<void> {
    try {
      await this.steps();
    } catch (err) {
      try {
        if (this.cancelReason) await this.finishCancelled(this.cancelReason);
        else await this.finishFailed(err);
      } catch (finishErr) {
        this.logger.error(
          { err: finishErr, ...this.ids, sessionId: this.spec.sessionId },
          'could not close the run',
        );
      }
    }
  }

  private async steps(): Promise<void> {
    const { config, repo } = this.deps;
    await this.append([{ type: 'task_started', data: { attempt: this.spec.attempt } }]);
    await this.thinking('intent_recognition', 'started');
    if (this.spec.attempt <= config.agent.failFirstAttempts) {
      throw new AgentFailure(
        `Attempt ${this.spec.attempt} failed on purpose (AGENT_FAIL_FIRST_ATTEMPTS=${config.agent.failFirstAttempts})`,
      );
    }
    const transcript = [...this.spec.transcript];
    const context = await this.deps.context.build({
      sessionId: this.spec.sessionId,
      intentId: this.spec.intentId,
      transcript,
      tools: this.deps.tools.all(),
    });
    let phase: 'recognize' | 'respond' = 'recognize';
    if (transcript[transcript.length - 1]?.role === 'tool') {
      await this.thinking('intent_recognition', 'completed', 'resumed after the tool step');
      phase = 'respond';
    }
    let answer: string | undefined;
    for (let round = 0; round < MAX_TOOL_ROUNDS; round++) {
      const out = await this.callModel(context, transcript, phase);
      const at = transcript.length;
      transcript.push({
        role: 'assistant',
        content: out.text,
        ...(out.calls.length ? { toolCalls: out.calls } : {}),
      });
      if (out.calls.length === 0) {
        answer = out.text;
        break;
      }
      for (const [i, call] of out.calls.entries()) {
        const key = toolCallKey(this.spec.intentId, at, i, call.name);
        transcript.push(await runTool(this, call, this.deps, key));
      }
      await repo.saveCheckpoint(this.spec.runId, { transcript });
      phase = 'respond';
    }
    // Out of tool rounds: one last call without tools, so the model answers with what it has.
    answer ??= (await this.callModel(context, transcript, 'respond', false)).text;
    if (!answer.trim()) {
      throw new AgentFailure(
        `The model gave no answer (after ${MAX_TOOL_ROUNDS} tool rounds at most); try rephrasing`,
      );
    }
    await this.append([{ type: 'response', data: { content: answer } }]);
    await this.deps.usage.record(this.spec.userId, { runs: 1 });
    await repo.setRunStatus(this.spec.runId, ['running', 'awaiting_input'], 'completed');
    await repo.setIntentStatus(this.spec.intentId, ['active'], 'completed');
    await this.append([{ type: 'task_completed', data: { usage: { ...this.meter.totals } } }]);
  }

  /**
   * One model call. In the recognition phase the first text chunk means "the answer is a reply":
   * intent_recognition completes and response_generation starts before the text is streamed.
   */
  private async callModel(
    context: ConversationContext,
    transcript: TranscriptMessage[],
    phase: 'recognize' | 'respond',
    offerTools = true,
  ): Promise<{ text: string; calls: ToolCall[] }> {
    const { provider, tools, history } = this.deps;
    await this.assertQuota();
    if (phase === 'respond') await this.thinking('response_generation', 'started');
    let text = '';
    const calls: ToolCall[] = [];
    let generating = phase === 'respond';
    const messages = [...context.earlier, ...transcript];
    this.meter.beginCall([context.system, ...messages.map((m) => m.content)]);
    try {
      const stream = provider.stream({
        system: context.system,
        messages,
        tools: offerTools ? tools.all() : [],
        signal: this.signal,
      });
      const iterator = stream[Symbol.asyncIterator]();
      for (;;) {
        const next = await abortable(iterator.next(), this.signal);
        if (next.done) break;
        const chunk = next.value;
        if (chunk.type === 'usage') {
          await this.meter.reported(chunk.promptTokens, chunk.completionTokens);
        } else if (chunk.type === 'tool_call') {
          this.meter.received(JSON.stringify(chunk.call.arguments));
          if (offerTools) calls.push(chunk.call);
        } else if (chunk.text) {
          this.meter.received(chunk.text);
          if (!generating) {
            await this.thinking('intent_recognition', 'completed', 'reply');
            await this.thinking('response_generation', 'started');
            generating = true;
          }
          if (this.signal.aborted) break;
          text += chunk.text;
          history.appendDelta(this.spec.sessionId, this.ids, chunk.text);
        }
      }
    } finally {
      await this.meter.endCall();
    }
    if (phase === 'recognize' && !generating) {
      await this.thinking(
        'intent_recognition',
        'completed',
        calls.length ? `tool: ${calls.map((c) => c.name).join(', ')}` : 'reply',
      );
    }
    if (generating && calls.length === 0) await this.thinking('response_generation', 'completed');
    return { text, calls };
  }

  /** The daily token quota, checked before every model call; running out fails the attempt. */
  private async assertQuota(): Promise<void> {
    try {
      await this.deps.quotas.assertBeforeModelCall(this.spec.userId);
    } catch (err) {
      throw err instanceof DomainError ? new AgentFailure(err.message) : err;
    }
  }

  /**
   * Pauses the run on a question. The waiter is registered before the question is published, so
   * an answer cannot arrive unseen.
   */
  async ask<K extends 'confirm' | 'form'>(
    kind: K,
    data: K extends 'confirm'
      ? Omit<EventDataMap['request_confirmation'], 'interactionId' | 'expiresAt'>
      : Omit<EventDataMap['component'], 'interactionId' | 'expiresAt'>,
  ): Promise<InteractionAnswer> {
    const { config, db, repo, hub, timers } = this.deps;
    const id = randomUUID();
    const timeout = kind === 'confirm' ? config.timeouts.confirmationMs : config.timeouts.formMs;
    const expiresAt = new Date(Date.now() + timeout);
    const payload = { interactionId: id, ...data, expiresAt: expiresAt.toISOString() };
    await db.transaction(async (tx) => {
      await repo.insertInteraction(
        {
          id,
          ...this.ids,
          sessionId: this.spec.sessionId,
          kind: kind,
          payload,
          expiresAt,
        },
        tx,
      );
      await tx.query(
        `UPDATE runs SET status = 'awaiting_input' WHERE id = $1 AND status = 'running'`,
        [this.spec.runId],
      );
    });
    const answered = hub.wait(id, this.signal);
    answered.catch(() => undefined);
    timers.schedule(id, expiresAt);
    try {
      await this.append([
        kind === 'confirm'
          ? { type: 'request_confirmation', data: payload as EventDataMap['request_confirmation'] }
          : { type: 'component', data: payload as EventDataMap['component'] },
      ]);
      return await answered;
    } finally {
      timers.clear(id);
      hub.forget(id);
      await repo.setRunStatus(this.spec.runId, ['awaiting_input'], 'running');
    }
  }

  private async finishCancelled(reason: CancelReason): Promise<void> {
    const { repo, runs, usage } = this.deps;
    const resolved = await runs.resolveAllPending(this.spec.sessionId, 'cancelled');
    await repo.setRunStatus(this.spec.runId, ['running', 'awaiting_input'], 'cancelled');
    const keepResumable = reason === 'expired' || reason === 'shutdown';
    await repo.setIntentStatus(
      this.spec.intentId,
      ['active'],
      keepResumable ? 'abandoned' : 'cancelled',
    );
    await usage.record(this.spec.userId, { runs: 1 });
    await this.deps.history.append(
      this.spec.sessionId,
      [
        ...resolved.map((i) => interactionResolved(i, 'cancelled')),
        { type: 'task_cancelled', data: { reason }, ...this.ids },
      ],
      { activity: reason !== 'expired' },
    );
  }

  private async finishFailed(err: unknown): Promise<void> {
    const { config, db, repo, usage, timers } = this.deps;
    const message =
      err instanceof AgentFailure
        ? err.message
        : `The agent failed: ${(err as Error)?.message ?? String(err)}`;
    if (!(err instanceof AgentFailure))
      this.logger.warn({ err, ...this.ids, sessionId: this.spec.sessionId }, 'run failed');
    if (this.step) await this.thinking(this.step, 'failed', message);
    await usage.record(this.spec.userId, { runs: 1 });
    const canRetry = this.spec.attempt - 1 < config.agent.maxRetries;
    if (!canRetry) {
      await repo.setRunStatus(this.spec.runId, ['running', 'awaiting_input'], 'failed');
      await repo.setIntentStatus(this.spec.intentId, ['active'], 'failed');
      await this.append([
        {
          type: 'task_failed',
          data: { error: message, attempt: this.spec.attempt, canRetry: false },
        },
      ]);
      return;
    }
    const interactionId = randomUUID();
    const expiresAt = new Date(Date.now() + config.timeouts.retryMs);
    const data = { error: message, attempt: this.spec.attempt, canRetry: true, interactionId };
    await db.transaction(async (tx) => {
      await repo.insertInteraction(
        {
          id: interactionId,
          ...this.ids,
          sessionId: this.spec.sessionId,
          kind: 'retry',
          payload: data,
          expiresAt,
        },
        tx,
      );
      await tx.query(`UPDATE runs SET status = 'failed', ended_at = now() WHERE id = $1`, [
        this.spec.runId,
      ]);
    });
    timers.schedule(interactionId, expiresAt);
    await this.append([{ type: 'task_failed', data }]);
  }
}
