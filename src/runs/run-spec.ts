import type { CancelReason } from '../contracts/events.js';
import type { TranscriptMessage } from './transcript.js';

/** A committed run as its execution starts it: ids, attempt, and the transcript to start from. */
export interface RunSpec {
  runId: string;
  intentId: string;
  sessionId: string;
  userId: string;
  attempt: number;
  transcript: TranscriptMessage[];
  /**
   * Its task_started is already in the log: a queued intent's run announces its start in the
   * transaction that took it off the queue, so the log says it left the queue whatever happens
   * to the run before its execution begins.
   */
  announced?: boolean;
  /**
   * An adopted paused run (PausedRuns): it replays its transcript, writing nothing, up to the
   * question it paused at, and goes on from that question's stored answer. Its task_started is
   * in the log already.
   */
  resume?: PausePoint;
  /** The tool round it paused in (an adopted run has only the rounds left after it). */
  round?: number;
  /** Tokens the run used before it paused (an adopted run's usage goes on from there). */
  usage?: { promptTokens: number; completionTokens: number };
}

/** Where a run paused: the tool call (its ledger key) and the kind of question it asked. */
export interface PausePoint {
  callKey: string;
  kind: 'confirm' | 'form';
}

/** Why a run stopped early; carried as the AbortSignal's reason. */
export class RunCancelled extends Error {
  constructor(readonly reason: CancelReason) {
    super(`run cancelled (${reason})`);
    this.name = 'RunCancelled';
  }
}

/**
 * The run lost a transition (it was ended elsewhere, taken over, or its node could not renew
 * it): it stops at once and writes nothing more.
 */
export class RunSuperseded extends Error {
  constructor(why: string) {
    super(`run superseded (${why})`);
    this.name = 'RunSuperseded';
  }
}

/** A failure of the attempt itself (model error, tool error, injected fault). */
export class AgentFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AgentFailure';
  }
}
