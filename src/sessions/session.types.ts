import type { InteractionKind } from '../contracts/events.js';
import type { RunStatus } from '../contracts/socket.js';

// One definition of a run's statuses for the server and the client SDK.
export type { RunStatus };
export type SessionStatus = 'active' | 'closed';
export type IntentStatus = 'active' | 'completed' | 'abandoned' | 'cancelled' | 'failed';

export const ACTIVE_RUN_STATUSES: readonly RunStatus[] = ['running', 'awaiting_input'];

export interface SessionView {
  id: string;
  title: string | null;
  status: SessionStatus;
  createdAt: string;
  lastActivityAt: string;
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
  data: Record<string, unknown>;
}

export interface SessionState {
  run: RunView | null;
  pendingInteraction: InteractionView | null;
}

export interface SessionWithState extends SessionView {
  state: SessionState;
}
