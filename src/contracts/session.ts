import type { InteractionKind } from './events.js';

/**
 * A session, its run and its open question as clients see them (docs/protocol.md "Sessions"):
 * the REST responses and the socket acks both carry these. The status lists are written here
 * once; the server's validators, its OpenAPI and AsyncAPI documents and the client read them.
 */
export const SESSION_STATUSES = ['active', 'closed'] as const;
export type SessionStatus = (typeof SESSION_STATUSES)[number];

/** A run's status as PROTOCOL.md lists it; `interrupted` is a run whose node died mid-run. */
export const RUN_STATUSES = [
  'running',
  'awaiting_input',
  'completed',
  'cancelled',
  'failed',
  'interrupted',
] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/** The statuses of a run that is still going: it may write events, and blocks a new message. */
export const ACTIVE_RUN_STATUSES = [
  'running',
  'awaiting_input',
] as const satisfies readonly RunStatus[];
export type ActiveRunStatus = (typeof ACTIVE_RUN_STATUSES)[number];

export function isActiveRunStatus(status: RunStatus): status is ActiveRunStatus {
  return (ACTIVE_RUN_STATUSES as readonly RunStatus[]).includes(status);
}

/**
 * An intent's status; no response carries it yet, but run control and the log follow it.
 * `queued`: waiting in the session's queue; `rolled_back`: ended by a `rollback` send, and out of
 * the conversation memory.
 */
export const INTENT_STATUSES = [
  'queued',
  'active',
  'completed',
  'abandoned',
  'cancelled',
  'failed',
  'rolled_back',
] as const;
export type IntentStatus = (typeof INTENT_STATUSES)[number];

export interface SessionView {
  id: string;
  title: string | null;
  status: SessionStatus;
  createdAt: string;
  lastActivityAt: string;
  /** seq of the newest event, 0 for an empty log. */
  lastSeq: number;
}

export interface RunView {
  id: string;
  intentId: string;
  status: RunStatus;
  attempt: number;
  startedAt: string;
}

export interface InteractionView {
  id: string;
  kind: InteractionKind;
  runId: string;
  intentId: string;
  expiresAt: string;
  /** The data of the event that asked (request_confirmation, component or task_failed). */
  data: Record<string, unknown>;
}

/** One intent waiting in the session's queue (`state.queue`, next first). */
export interface QueuedIntentView {
  intentId: string;
  content: string;
  createdAt: string;
}

export interface SessionStateView {
  run: RunView | null;
  pendingInteraction: InteractionView | null;
  /** The intent a new message follows by default; null before the first message. */
  headIntentId: string | null;
  queue: QueuedIntentView[];
}

export interface SessionWithState extends SessionView {
  state: SessionStateView;
}
