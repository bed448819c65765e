import type { CancelReason } from '../contracts/events.js';
import type { RunSpec } from './run-spec.js';

/**
 * One attempt of a run executing in this process, as the run engine controls it. The agent
 * implements it (agent/run-execution.ts); the engine only starts, cancels and abandons it.
 */
export interface LiveExecution {
  readonly spec: RunSpec;
  /** Aborted when it stops early, with why (RunCancelled or RunSuperseded) as the reason. */
  readonly signal: AbortSignal;
  /** Runs the attempt to its end; `onFinished` is called once it has let go of the run. */
  start(onFinished: () => void): Promise<void>;
  /** Stops it and resolves once it is closed: true when this cancel is what ended the run. */
  cancel(reason: CancelReason): Promise<boolean>;
  /** Stops it without writing (another writer changed the run's state). */
  abandon(why: string): void;
  /** The node stops: cancels it (`shutdown`), or parks it when it waits on a question. */
  shutdown(): Promise<void>;
}

/** Makes executions of committed runs: what the engine reaches the agent through. */
export interface RunExecutor {
  create(spec: RunSpec): LiveExecution;
}

/** Injection token of the RunExecutor (provided by the agent module). */
export const RUN_EXECUTOR = Symbol('RUN_EXECUTOR');
