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
