import type { ErrorCode } from './error-codes.js';
import type { SessionEvent } from './events.js';

/** The typed Socket.IO contract of the `/chat` namespace (docs/protocol.md "Socket.IO"). */
export const CHAT_NAMESPACE = '/chat';

export interface SocketError {
  code: ErrorCode;
  message: string;
  details?: unknown;
  retryAfterMs?: number;
}

export type AckFailure = { ok: false; error: SocketError };
export type Ack<T extends object = object> = ({ ok: true } & T) | AckFailure;
export type AckFn<T extends object = object> = (response: Ack<T>) => void;

export interface SessionView {
  id: string;
  title: string | null;
  status: 'active' | 'closed';
  createdAt: string;
  lastActivityAt: string;
  lastSeq: number;
}

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

export interface SessionStateView {
  run: null | {
    id: string;
    intentId: string;
    status: RunStatus;
    attempt: number;
    startedAt: string;
  };
  pendingInteraction: null | {
    id: string;
    kind: 'confirm' | 'form' | 'retry';
    runId: string;
    intentId: string;
    expiresAt: string;
    data: Record<string, unknown>;
  };
}

export interface ClientPayloads {
  'session:create': { title?: string };
  'session:join': { sessionId: string; afterSeq?: number };
  'session:leave': { sessionId: string };
  'message:send': { sessionId: string; content: string; clientMessageId: string };
  'interaction:respond': { sessionId: string; interactionId: string; response: unknown };
  'run:cancel': { sessionId: string };
  'intent:resume': { sessionId: string; intentId: string };
}

export interface ClientAcks {
  'session:create': { session: SessionView };
  'session:join': {
    session: SessionView;
    state: SessionStateView;
    events: SessionEvent[];
    hasMore: boolean;
  };
  'session:leave': object;
  'message:send': { intentId: string; runId: string; seq: number };
  'interaction:respond': object;
  'run:cancel': { runId: string };
  'intent:resume': { runId: string };
}

export type ClientEventName = keyof ClientPayloads;

export const CLIENT_EVENTS: readonly ClientEventName[] = [
  'session:create',
  'session:join',
  'session:leave',
  'message:send',
  'interaction:respond',
  'run:cancel',
  'intent:resume',
];

export type ClientToServerEvents = {
  [E in ClientEventName]: (payload: ClientPayloads[E], ack: AckFn<ClientAcks[E]>) => void;
};

export interface ServerToClientEvents {
  'session:event': (event: SessionEvent) => void;
  auth_expired: (info: { message: string }) => void;
  error: (error: SocketError & { event?: string }) => void;
}

export type InterServerEvents = Record<string, never>;

export interface SocketData {
  userId: string;
  role: 'user' | 'admin';
  connectionId: string;
  /** Access token expiry, epoch seconds. */
  exp: number;
}

/** Most sessions a single replay in session:join returns; page the rest over REST. */
export const JOIN_REPLAY_LIMIT = 500;
/** Largest frame the server accepts; bigger ones close that connection. */
export const MAX_SOCKET_FRAME_BYTES = 64 * 1024;
