import type { ErrorCode } from './error-codes.js';
import type { HeadResponse, MessageAccepted, Role, RunIdResponse } from './rest.js';
import type { IfBusyPolicy, InteractionKind, SessionEvent } from './events.js';
import type { SessionStateView, SessionView } from './session.js';

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

export interface SessionCreatePayload {
  title?: string;
}
export interface SessionJoinPayload {
  sessionId: string;
  /** Replay events with seq greater than this (default 0). */
  afterSeq?: number;
}
export interface SessionLeavePayload {
  sessionId: string;
}
export interface MessageSendPayload {
  sessionId: string;
  content: string;
  clientMessageId: string;
  ifBusy?: IfBusyPolicy;
  parentIntentId?: string | null;
}
export interface InteractionRespondPayload {
  sessionId: string;
  interactionId: string;
  response: unknown;
}
export interface RunCancelPayload {
  sessionId: string;
}
export interface IntentResumePayload {
  sessionId: string;
  intentId: string;
}
/** `intent:cancel` (a queued intent), `intent:regenerate` and `session:checkout` name one intent. */
export type IntentCancelPayload = IntentResumePayload;
export type IntentRegeneratePayload = IntentResumePayload;
export type SessionCheckoutPayload = IntentResumePayload;

/** Each client event's payload (the first argument of its ClientToServerEvents signature). */
export interface ClientPayloads {
  'session:create': SessionCreatePayload;
  'session:join': SessionJoinPayload;
  'session:leave': SessionLeavePayload;
  'message:send': MessageSendPayload;
  'interaction:respond': InteractionRespondPayload;
  'run:cancel': RunCancelPayload;
  'intent:resume': IntentResumePayload;
  'intent:cancel': IntentCancelPayload;
  'intent:regenerate': IntentRegeneratePayload;
  'session:checkout': SessionCheckoutPayload;
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
  'message:send': MessageAccepted;
  'interaction:respond': object;
  'run:cancel': RunIdResponse;
  'intent:resume': RunIdResponse;
  'intent:cancel': object;
  'intent:regenerate': RunIdResponse;
  'session:checkout': HeadResponse;
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
  'intent:cancel',
  'intent:regenerate',
  'session:checkout',
];

export type ClientToServerEvents = {
  [E in ClientEventName]: (payload: ClientPayloads[E], ack: AckFn<ClientAcks[E]>) => void;
};

export const INBOX_STATUSES = ['pending', 'resolved'] as const;
export type InboxStatus = (typeof INBOX_STATUSES)[number];

/** `inbox`: one of the user's interactions opened or closed, in whichever of their sessions. */
export interface InboxEvent {
  interactionId: string;
  sessionId: string;
  kind: InteractionKind;
  status: InboxStatus;
  /**
   * The seq of the session event that opened or closed the interaction. Sent by whichever node
   * committed that event, so two of them may arrive out of order: per session, a higher seq wins.
   */
  seq: number;
}

export const SESSIONS_ACTIONS = ['created', 'updated', 'closed'] as const;
export type SessionsAction = (typeof SESSIONS_ACTIONS)[number];

/** `sessions`: one of the user's sessions was created, renamed (`updated`) or closed. */
export interface SessionsChange {
  action: SessionsAction;
  /** The session as the REST API returns it, after the change. */
  session: SessionView;
}

export interface ServerToClientEvents {
  'session:event': (event: SessionEvent) => void;
  /** To every socket of the user, whatever sessions it joined; not persisted. */
  inbox: (event: InboxEvent) => void;
  /** To every socket of the user, so each tab's session list stays current; not persisted. */
  sessions: (change: SessionsChange) => void;
  auth_expired: (info: { message: string }) => void;
  error: (error: SocketError & { event?: string }) => void;
}

export type InterServerEvents = Record<string, never>;

export interface SocketData {
  userId: string;
  role: Role;
  connectionId: string;
  /** Access token expiry, epoch seconds. */
  exp: number;
}

/** Most sessions a single replay in session:join returns; page the rest over REST. */
export const JOIN_REPLAY_LIMIT = 500;
/** Largest frame the server accepts; bigger ones close that connection. */
export const MAX_SOCKET_FRAME_BYTES = 64 * 1024;
