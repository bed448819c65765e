import type { InteractionAnswer } from '../runs/interaction-hub.js';
import type { PausedRuns } from '../runs/paused-runs.js';
import type { QuestionData, RunQuestions } from '../runs/run-questions.js';
import type { RunLifecycle } from '../runs/run-lifecycle.service.js';
import type { RunRef } from '../runs/run-ref.js';
import { type PausePoint, type RunSpec, RunSuperseded } from '../runs/run-spec.js';

/** What a pausing execution gives its pause points (RunExecution is one). */
interface PausingRun {
  readonly spec: RunSpec;
  readonly ref: RunRef;
  readonly signal: AbortSignal;
  abandon(why: string): void;
}

/** What a checkpoint at a question holds besides where it pauses. */
export interface PauseState {
  transcript: unknown[];
  usage: { promptTokens: number; completionTokens: number };
  round: number;
}

/**
 * An execution's questions, and what makes them outlive its process: each is asked after a
 * checkpoint that says where the run pauses (docs/architecture.md "Pauses outlive their
 * process"), so another node can adopt the run and replay it to that question; a replaying run
 * finds its questions again instead of asking. A stop while it waits (or replays) parks the run.
 */
export class PausePoints {
  /** Set while replaying to the question an adopted run paused at; nothing is written meanwhile. */
  private replay: PausePoint | undefined;
  private waiting = false;

  constructor(
    private readonly run: PausingRun,
    private readonly deps: { questions: RunQuestions; lifecycle: RunLifecycle; pauses: PausedRuns },
  ) {
    this.replay = run.spec.resume;
  }

  get replaying(): boolean {
    return this.replay !== undefined;
  }

  /** Waiting on a question, or replaying to one: it has not acted on an answer yet. */
  get holdsQuestion(): boolean {
    return this.waiting || this.replaying;
  }

  /** Whether a replay is to find this tool call's question asked already (and not ask again). */
  replays(callKey: string, kind: PausePoint['kind']): boolean {
    return this.replay?.callKey === callKey && this.replay.kind === kind;
  }

  /**
   * Asks a tool call's question after a checkpoint of `state` with where it pauses; a replay
   * gets the answer the question already has (or waits for it) instead.
   */
  async ask<K extends 'confirm' | 'form'>(
    kind: K,
    data: QuestionData<K>,
    callKey: string,
    state: PauseState,
  ): Promise<InteractionAnswer> {
    const { spec, ref, signal } = this.run;
    const point = { callKey, kind };
    if (this.replay) {
      const resumes = this.replays(callKey, kind);
      const answer = await this.deps.questions.asked(ref, signal, point, resumes);
      if (resumes) this.replay = undefined;
      return answer;
    }
    if (!(await this.deps.lifecycle.checkpoint(spec.runId, { ...state, pausedAt: point }))) {
      this.run.abandon('lost checkpoint');
      throw new RunSuperseded('checkpoint');
    }
    this.waiting = true;
    try {
      return await this.deps.questions.ask(ref, signal, point, data);
    } finally {
      this.waiting = false;
    }
  }

  /**
   * After the execution stopped (a shutdown, while it held a question): the run is parked for
   * another node, or parked again if its answer moved it to `running` in that very instant (the
   * stop came before it acted on it: the move back to running and every event check the signal
   * first). Neither: it ended, or another node holds it; it is cancelled only if still ours.
   */
  async park(): Promise<void> {
    const { pauses, lifecycle } = this.deps;
    const { runId } = this.run.spec;
    if ((await pauses.park(runId)) || (await pauses.repark(runId))) return;
    await lifecycle.cancel(this.run.ref, 'shutdown', pauses.nodeId);
  }
}
