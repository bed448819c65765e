import { Logger } from '@nestjs/common';
import type { FaultPoints } from '../common/fault-points.js';
import type { CancelReason, EventDataMap, NewEvent, ThinkingStep } from '../contracts/events.js';
import type { HistoryService } from '../history/history.service.js';
import { DomainError } from '../common/domain-error.js';
import type { QuotaPolicy } from '../quotas/quota-policy.service.js';
import type { UsageMeter } from '../quotas/usage-meter.js';
import type { RunLifecycle } from '../runs/run-lifecycle.service.js';
import type { RunRef } from '../runs/run-ref.js';
import type { InteractionAnswer } from '../runs/interaction-hub.js';
import type { ToolCall, TranscriptMessage } from '../runs/transcript.js';
import { AgentFailure, RunCancelled, type RunSpec, RunSuperseded } from '../runs/run-spec.js';
import type { RunQuestions } from '../runs/run-questions.js';
import { runTool } from './run-tool.js';
import { abortable } from './tools/tool.js';
import { toolCallKey } from './tools/tool-call.ledger.js';
import type { AgentToolkit } from './agent-toolkit.js';

const MAX_TOOL_ROUNDS = 4;

/** What every execution works with, built once by RunFactory: the engine's side and the agent's. */
export interface RunExecutionDeps {
  /** Every state change of the run (each says whether this run won it). */
  lifecycle: RunLifecycle;
  /** Questions to the user (confirm, form) and the wait for their answers. */
  questions: RunQuestions;
  /** The model, the tools, the context and the tokenizer. */
  agent: AgentToolkit;
  /** The run's own events (thinking steps, streamed text). */
  history: HistoryService;
  /** The daily token quota before each model call, and the run's usage meter. */
  quotas: QuotaPolicy;
  faults: FaultPoints;
}

/**
 * One attempt of the agent at an intent. Its state lives in `runs` and moves only through the
 * RunLifecycle, whose every transition says whether this run won: a run that loses one (ended
 * elsewhere, taken over, fenced) aborts its signal and writes nothing more. Steps are told as
 * `thinking` events, text streams as `generating`, pauses are questions (RunQuestions).
 * Cancellation is the AbortSignal, which reaches the model call and the tool.
 */
export class RunExecution {
  private readonly logger = new Logger(RunExecution.name);
  private readonly controller = new AbortController();
  private cancelReason: CancelReason | undefined;
  private cancelWon = false;
  private step: ThinkingStep | undefined;
  private done: Promise<void> | undefined;
  private readonly meter: UsageMeter;

  constructor(
    readonly spec: RunSpec,
    private readonly deps: RunExecutionDeps,
  ) {
    this.meter = deps.quotas.meter(spec.userId, deps.agent.tokens);
  }

  /** For runTool: the tools and their ledger (and the fault points, below). */
  get agent(): AgentToolkit {
    return this.deps.agent;
  }

  get faults(): FaultPoints {
    return this.deps.faults;
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get ref(): RunRef {
    const { runId, intentId, sessionId, userId, attempt } = this.spec;
    return { runId, intentId, sessionId, userId, attempt };
  }

  start(onFinished: () => void): Promise<void> {
    this.done ??= this.execute().finally(onFinished);
    return this.done;
  }

  /**
   * Stops the run; resolves once it is closed, with true when this cancel ended it
   * (task_cancelled written) and false when the run ended otherwise first.
   */
  async cancel(reason: CancelReason): Promise<boolean> {
    if (!this.cancelReason && !this.signal.aborted) {
      this.cancelReason = reason;
      this.controller.abort(new RunCancelled(reason));
    }
    await this.done;
    return this.cancelWon;
  }

  /** Stops the run without writing anything (its state was changed by somebody else). */
  abandon(why: string): void {
    if (!this.signal.aborted) this.controller.abort(new RunSuperseded(why));
  }

  async append(events: NewEvent[]): Promise<void> {
    this.signal.throwIfAborted();
    const ids = { runId: this.spec.runId, intentId: this.spec.intentId };
    await this.deps.history.append(
      this.spec.sessionId,
      events.map((e) => ({ ...e, ...ids })),
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

  ask<K extends 'confirm' | 'form'>(
    kind: K,
    data: K extends 'confirm'
      ? Omit<EventDataMap['request_confirmation'], 'interactionId' | 'expiresAt'>
      : Omit<EventDataMap['component'], 'interactionId' | 'expiresAt'>,
  ): Promise<InteractionAnswer> {
    return this.deps.questions.ask(this.ref, this.signal, kind, data);
  }

  private async execute(): Promise<void> {
    try {
      await this.steps();
    } catch (err) {
      try {
        await this.close(err);
      } catch (closeErr) {
        this.logger.error(
          { err: closeErr, runId: this.spec.runId, sessionId: this.spec.sessionId },
          'could not close the run',
        );
      }
    }
  }

  private async close(err: unknown): Promise<void> {
    if (err instanceof RunSuperseded || this.signal.reason instanceof RunSuperseded) return;
    if (this.cancelReason) {
      this.cancelWon = await this.deps.lifecycle.cancel(this.ref, this.cancelReason);
      if (this.cancelWon) await this.faults.hit('run.closed');
      return;
    }
    const message =
      err instanceof AgentFailure
        ? err.message
        : `The agent failed: ${(err as Error)?.message ?? String(err)}`;
    if (!(err instanceof AgentFailure))
      this.logger.warn(
        { err, runId: this.spec.runId, sessionId: this.spec.sessionId },
        'run failed',
      );
    if (await this.deps.lifecycle.fail(this.ref, message, this.step))
      await this.faults.hit('run.closed');
  }

  private lost(transition: string): never {
    this.abandon(`lost ${transition}`);
    throw new RunSuperseded(transition);
  }

  private async steps(): Promise<void> {
    if (!(await this.deps.lifecycle.begin(this.ref, this.spec.announced))) this.lost('start');
    await this.thinking('intent_recognition', 'started');
    const failFirst = this.agent.failFirstAttempts;
    if (this.spec.attempt <= failFirst) {
      throw new AgentFailure(
        `Attempt ${this.spec.attempt} failed on purpose (AGENT_FAIL_FIRST_ATTEMPTS=${failFirst})`,
      );
    }
    const transcript = [...this.spec.transcript];
    let phase: 'recognize' | 'respond' = 'recognize';
    if (transcript[transcript.length - 1]?.role === 'tool') {
      await this.thinking('intent_recognition', 'completed', 'resumed after the tool step');
      phase = 'respond';
    }
    let answer: string | undefined;
    for (let round = 0; round < MAX_TOOL_ROUNDS; round++) {
      const out = await this.callModel(transcript, phase);
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
      const ran: ToolCall[] = [];
      for (const [i, call] of out.calls.entries()) {
        const done = await runTool(this, call, toolCallKey(this.spec.intentId, at, i, call.name));
        ran.push(done.call);
        transcript.push(done.message);
      }
      // The calls as they ran (a person may have edited their arguments): what the model sees next.
      transcript[at] = { role: 'assistant', content: out.text, toolCalls: ran };
      if (!(await this.deps.lifecycle.checkpoint(this.spec.runId, { transcript })))
        this.lost('checkpoint');
      phase = 'respond';
    }
    // Out of tool rounds: one last call without tools, so the model answers with what it has.
    answer ??= (await this.callModel(transcript, 'respond', false)).text;
    this.signal.throwIfAborted();
    if (!answer.trim()) {
      throw new AgentFailure(
        `The model gave no answer (after ${MAX_TOOL_ROUNDS} tool rounds at most); try rephrasing`,
      );
    }
    if (!(await this.deps.lifecycle.complete(this.ref, answer, { ...this.meter.totals })))
      this.lost('completion');
    await this.faults.hit('run.closed');
  }

  /**
   * One model call. In the recognition phase the first text chunk means "the answer is a reply":
   * intent_recognition completes and response_generation starts before the text is streamed.
   */
  private async callModel(
    transcript: TranscriptMessage[],
    phase: 'recognize' | 'respond',
    offerTools = true,
  ): Promise<{ text: string; calls: ToolCall[] }> {
    await this.assertQuota();
    // Built for each call: the transcript grows with every tool round, and the earlier turns
    // must give way for it to keep the whole input within CONTEXT_MAX_TOKENS.
    const context = await this.agent.context.build({
      sessionId: this.spec.sessionId,
      intentId: this.spec.intentId,
      transcript,
      tools: this.agent.tools.all(),
    });
    if (phase === 'respond') await this.thinking('response_generation', 'started');
    let text = '';
    const calls: ToolCall[] = [];
    let generating = phase === 'respond';
    const messages = [...context.earlier, ...transcript];
    this.meter.beginCall([context.system, ...messages.map((m) => m.content)]);
    try {
      const stream = this.agent.provider.stream({
        system: context.system,
        messages,
        tools: offerTools ? this.agent.tools.all() : [],
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
            await this.faults.hit('run.reply-started');
          }
          // A cancel that arrived during the steps above ends the run; it is not an empty answer.
          this.signal.throwIfAborted();
          text += chunk.text;
          this.deps.history.appendDelta(this.spec.sessionId, this.spec, chunk.text);
          await this.faults.hit('run.streamed');
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
      await this.deps.quotas.assertTokensLeft(this.spec.userId);
    } catch (err) {
      throw err instanceof DomainError ? new AgentFailure(err.message) : err;
    }
  }
}
