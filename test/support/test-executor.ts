import type { CancelReason } from '../../src/contracts/events.js';
import type { LiveExecution, RunExecutor } from '../../src/runs/run-executor.js';
import type { RunLifecycle } from '../../src/runs/run-lifecycle.service.js';
import type { RunRef } from '../../src/runs/run-ref.js';
import { RunCancelled, type RunSpec, RunSuperseded } from '../../src/runs/run-spec.js';

type Ending = { kind: 'finish'; answer: string } | { kind: 'fail'; error: string };

/**
 * An execution the test drives, standing in for the agent's (agent/run-execution.ts) with the
 * same contract towards the engine: it writes task_started, then is held until the test
 * finishes or fails it, or the engine cancels or abandons it; every ending goes through the
 * RunLifecycle like the real one's, and a cancel or abandon stops it at once.
 */
export class HeldExecution implements LiveExecution {
  private readonly controller = new AbortController();
  private release!: (e: Ending) => void;
  private readonly ending = new Promise<Ending>((r) => (this.release = r));
  private done: Promise<void> | undefined;
  private cancelWon = false;
  /** Whether the lifecycle accepted task_started (false: the run had ended before it began). */
  began: boolean | undefined;
  /** What ended it: the lifecycle's answer for finish/fail/cancel, or the abandon's reason. */
  result: { kind: 'finish' | 'fail' | 'cancel'; won: boolean } | { kind: 'abandon' } | undefined;
  readonly cancels: CancelReason[] = [];
  readonly abandons: string[] = [];
  private cancelled!: () => void;
  /** Resolves at the first cancel the engine asks of it. */
  readonly cancelAsked = new Promise<void>((r) => (this.cancelled = r));

  constructor(
    readonly spec: RunSpec,
    private readonly lifecycle: RunLifecycle,
  ) {}

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

  /** Resolves once it has let go of the run (after `start`). */
  get finished(): Promise<void> {
    return this.done ?? Promise.reject(new Error('not started'));
  }

  /** Lets it complete with `answer`; resolves when it has let go of the run. */
  finish(answer = 'done'): Promise<void> {
    this.release({ kind: 'finish', answer });
    return this.finished;
  }

  /** Lets it fail with `error`; resolves when it has let go of the run. */
  fail(error = 'the test made it fail'): Promise<void> {
    this.release({ kind: 'fail', error });
    return this.finished;
  }

  async cancel(reason: CancelReason): Promise<boolean> {
    this.cancels.push(reason);
    this.cancelled();
    if (!this.signal.aborted) this.controller.abort(new RunCancelled(reason));
    await this.done;
    return this.cancelWon;
  }

  /** A held execution never waits on a question: a shutdown cancels it. */
  async shutdown(): Promise<void> {
    await this.cancel('shutdown');
  }

  abandon(why: string): void {
    this.abandons.push(why);
    if (!this.signal.aborted) this.controller.abort(new RunSuperseded(why));
  }

  private async execute(): Promise<void> {
    this.began = await this.lifecycle.begin(this.ref, this.spec.announced);
    if (!this.began) return;
    const stopped = new Promise<never>((_, reject) => {
      const stop = (): void => reject(this.signal.reason as Error);
      if (this.signal.aborted) stop();
      else this.signal.addEventListener('abort', stop, { once: true });
    });
    let ending: Ending;
    try {
      ending = await Promise.race([this.ending, stopped]);
    } catch (reason) {
      if (reason instanceof RunCancelled) {
        this.cancelWon = await this.lifecycle.cancel(this.ref, reason.reason);
        this.result = { kind: 'cancel', won: this.cancelWon };
      } else {
        this.result = { kind: 'abandon' };
      }
      return;
    }
    const won =
      ending.kind === 'finish'
        ? await this.lifecycle.complete(this.ref, ending.answer, {
            promptTokens: 1,
            completionTokens: 1,
          })
        : await this.lifecycle.fail(this.ref, ending.error, undefined);
    this.result = { kind: ending.kind, won };
  }
}

/** The RUN_EXECUTOR of the engine's service tests: keeps every execution it made, in order. */
export class TestExecutor implements RunExecutor {
  readonly made: HeldExecution[] = [];

  constructor(private readonly lifecycle: RunLifecycle) {}

  create(spec: RunSpec): HeldExecution {
    const run = new HeldExecution(spec, this.lifecycle);
    this.made.push(run);
    return run;
  }

  /** The execution made for a run. */
  of(runId: string): HeldExecution {
    const run = this.made.find((r) => r.spec.runId === runId);
    if (!run) throw new Error(`no execution of run ${runId}`);
    return run;
  }
}
