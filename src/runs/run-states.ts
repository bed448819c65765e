import { isActiveRunStatus } from '../contracts/session.js';
import type { IntentStatus, RunStatus } from '../sessions/session.types.js';

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

/** Intents: `active` while runs of it may still start; a retry or resume re-opens `abandoned`. */
export const INTENT_TRANSITIONS: Readonly<Record<IntentStatus, readonly IntentStatus[]>> = {
  active: ['abandoned'],
  completed: ['active'],
  cancelled: ['active'],
  failed: ['active'],
  abandoned: ['active'],
};

export function isActive(status: RunStatus): boolean {
  return isActiveRunStatus(status);
}

export function isFinal(status: RunStatus): boolean {
  return !isActive(status);
}
