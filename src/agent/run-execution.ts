import { Logger } from '@nestjs/common';
import type { FaultPoints } from '../common/fault-points.js';
import type { CancelReason, EventDataMap, NewEvent, ThinkingStep } from '../contracts/events.js';
import type { HistoryService } from '../history/history.service.js';
import type { QuotaPolicy } from '../quotas/quota-policy.service.js';
import type { UsageMeter } from '../quotas/usage-meter.js';
import type { RunLifecycle } from '../runs/run-lifecycle.service.js';
import type { RunRef } from '../runs/run-ref.js';
import type { InteractionAnswer } from '../runs/interaction-hub.js';
import type { PausedRuns } from '../runs/paused-runs.js';
import type { TranscriptMessage } from '../runs/transcript.js';
import {
  AgentFailure,
  type PausePoint,
  RunCancelled,
  type RunSpec,
  RunSuperseded,
} from '../runs/run-spec.js';
import type { QuestionData, RunQuestions } from '../runs/run-questions.js';
import { runTool } from './run-tool.js';
import { toolCallKey } from './tools/tool-call.ledger.js';
import type { AgentToolkit } from './agent-toolkit.js';
import { callModel, openRound } from './model-call.js';
import { PausePoints } from './pause-points.js';
import { spanFailed } from '../observability/tracing.js';
import { invokeAgentSpan } from './agent-spans.js';

const MAX_TOOL_ROUNDS = 4;

/** What every execution works with, built once by RunFactory: the engine's side and the agent's. */
export interface RunExecutionDeps {
  /** Every state change of the run (each says whether this run won it). */
  lifecycle: RunLifecycle;
  /** Questions to the user (confirm, form) and the wait for their answers. */
  questions: RunQuestions;
  /** Where a run waiting on a question is let go of at shutdown (parked). */
  pauses: PausedRuns;
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
 * `thinking` events, text streams as `generating`, pauses are questions (RunQuestions), each
 * asked after a checkpoint of the transcript so far: a run adopted after its node stopped
 * (RunSpec.resume) replays that transcript silently up to the question and goes on from its
 * answer. Cancellation is the AbortSignal, which reaches the model call and the tool.
 */
export class RunExecution {
  private readonly logger = new Logger(RunExecution.name);
  private readonly controller = new AbortController();
  private cancelReason: CancelReason | undefined;
  private cancelWon = false;
  private step: ThinkingStep | undefined;
  private done: Promise<void> | undefined;
  readonly meter: UsageMeter;
  private readonly transcript: TranscriptMessage[];
  private readonly pausePoints: PausePoints;
  /** The tool round it is in (an adopted run goes on counting from where it paused). */
  private round = 0;

  constructor(
    readonly spec: RunSpec,
    private readonly deps: RunExecutionDeps,
  ) {
    this.meter = deps.quotas.meter(spec.userId, deps.agent.tokens);
    if (spec.usage) Object.assign(this.meter.totals, spec.usage);
    this.transcript = [...spec.transcript];
    this.pausePoints = new PausePoints(this, deps);
  }

  /** For runTool and callModel: the tools and their ledger, the history, the quotas. */
  get agent(): AgentToolkit {
    return this.deps.agent;
  }

  get faults(): FaultPoints {
    return this.deps.faults;
  }

  get history(): HistoryService {
    return this.deps.history;
  }

  get quotas(): QuotaPolicy {
    return this.deps.quotas;
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

  /**
   * The node stops. A run waiting on a question (or replaying to one) stops and is parked (its
   * question stays open, any node adopts it once answered); any other is cancelled `shutdown`.
   */
  async shutdown(): Promise<void> {
    if (!this.pausePoints.holdsQuestion) {
      await this.cancel('shutdown');
      return;
    }
    this.abandon('parked: the node stops');
    await this.done;
    await this.pausePoints.park();
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
    // A replay retraces steps the log already tells.
    if (this.pausePoints.replaying) return;
    await this.append([
      { type: 'thinking', data: { step, status, ...(detail !== undefined ? { detail } : {}) } },
    ]);
  }

  /** Whether a replay is to find this tool call's question asked already (and not ask again). */
  replays(callKey: string, kind: PausePoint['kind']): boolean {
    return this.pausePoints.replays(callKey, kind);
  }

  /** Asks a tool call's question, after a checkpoint another node can pick the run up from. */
  ask<K extends 'confirm' | 'form'>(
    kind: K,
    data: QuestionData<K>,
    callKey: string,
  ): Promise<InteractionAnswer> {
    const state = { transcript: this.transcript, usage: this.meter.totals, round: this.round };
    return this.pausePoints.ask(kind, data, callKey, state);
  }

  /** The run, as one `invoke_agent` span: a failure or a cancel marks it failed. */
  private execute(): Promise<void> {
    const usage = () => this.meter.totals;
    return invokeAgentSpan(this.spec, this.agent.provider, usage, async (span) => {
      try {
        await this.steps();
      } catch (err) {
        if (!(err instanceof RunSuperseded))
          spanFailed(span, this.cancelReason ? new RunCancelled(this.cancelReason) : err);
        try {
          await this.close(err);
        } catch (closeErr) {
          this.logger.error(
            { err: closeErr, runId: this.spec.runId, sessionId: this.spec.sessionId },
            'could not close the run',
          );
        }
      }
    });
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

  /** task_started (unless an adopted run's, which has it), and a failure on purpose if asked. */
  private async begin(): Promise<void> {
    if (this.spec.resume) return;
    if (!(await this.deps.lifecycle.begin(this.ref, this.spec.announced))) this.lost('start');
    await this.thinking('intent_recognition', 'started');
    const failFirst = this.agent.failFirstAttempts;
    if (this.spec.attempt <= failFirst) {
      throw new AgentFailure(
        `Attempt ${this.spec.attempt} failed on purpose (AGENT_FAIL_FIRST_ATTEMPTS=${failFirst})`,
      );
    }
  }

  private async steps(): Promise<void> {
    await this.begin();
    const transcript = this.transcript;
    let phase: 'recognize' | 'respond' = 'recognize';
    const open = openRound(transcript);
    if (open || transcript[transcript.length - 1]?.role === 'tool') {
      await this.thinking('intent_recognition', 'completed', 'resumed after the tool step');
      this.round = this.spec.round ?? 0;
      if (open) {
        await this.toolCalls(open.at, open.from);
        this.round++;
      }
      phase = 'respond';
    }
    if (this.pausePoints.replaying)
      throw new AgentFailure('The run could not go back to the question it paused at');
    let answer: string | undefined;
    for (; this.round < MAX_TOOL_ROUNDS; this.round++) {
      const out = await callModel(this, transcript, phase);
      transcript.push({
        role: 'assistant',
        content: out.text,
        ...(out.calls.length ? { toolCalls: out.calls } : {}),
      });
      if (out.calls.length === 0) {
        answer = out.text;
        break;
      }
      await this.toolCalls(transcript.length - 1, 0);
      phase = 'respond';
    }
    // Out of tool rounds: one last call without tools, so the model answers with what it has.
    answer ??= (await callModel(this, transcript, 'respond', false)).text;
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
   * The tool calls of the assistant message at `at`, from call `from` on, then a checkpoint.
   * Each call is written back as it ran (a person may have edited its arguments) before the next
   * one starts: what the model sees next, and what a checkpoint before a question holds.
   */
  private async toolCalls(at: number, from: number): Promise<void> {
    const first = this.transcript[at];
    const calls = first.role === 'assistant' ? (first.toolCalls ?? []) : [];
    for (let i = from; i < calls.length; i++) {
      const call = calls[i];
      const done = await runTool(this, call, toolCallKey(this.spec.intentId, at, i, call.name));
      const message = this.transcript[at];
      if (message.role === 'assistant')
        this.transcript[at] = {
          ...message,
          toolCalls: (message.toolCalls ?? []).map((c, j) => (j === i ? done.call : c)),
        };
      this.transcript.push(done.message);
    }
    const saved = { transcript: this.transcript, pausedAt: null, usage: this.meter.totals };
    if (!(await this.deps.lifecycle.checkpoint(this.spec.runId, saved))) this.lost('checkpoint');
  }
}
