import { type IntentStatus, type RunStatus } from '../contracts/session.js';

/**
 * The run state machine, written once: for each target state, the states a run may leave for it.
 * Every transition is a conditional UPDATE with exactly this `from` list (RunsStore), so a caller
 * that loses a race learns it from the row count instead of overwriting the winner.
 */
export const RUN_TRANSITIONS: Readonly<Record<RunStatus, readonly RunStatus[]>> = {
  // New rows are inserted `running`; the only way back to it is an answered question.
  running: ['awaiting_input'],
  awaiting_input: ['running'],
  completed: ['running'],
  cancelled: ['running', 'awaiting_input'],
  failed: ['running', 'awaiting_input'],
  // Takeover and recovery of runs whose executor is gone.
  interrupted: ['running', 'awaiting_input'],
};

/**
 * Intents: inserted `active` (or `queued`, waiting for the session's run to end); `active` while
 * runs of it may still start. A queued intent starts (`active`) or is dequeued (`cancelled`); a
 * retry or resume re-opens `abandoned`, a regenerate an ended one; `rollback` ends the active one.
 */
export const INTENT_TRANSITIONS: Readonly<Record<IntentStatus, readonly IntentStatus[]>> = {
  queued: [],
  active: ['queued', 'abandoned', 'completed', 'failed', 'cancelled'],
  completed: ['active'],
  cancelled: ['active', 'queued'],
  failed: ['active'],
  abandoned: ['active'],
  rolled_back: ['active'],
};
