import type { ErrorBody } from './error-codes.js';
import type { SessionEvent } from './events.js';
import type { SessionStateView, SessionView } from './socket.js';

/**
 * Response bodies of the REST API (docs/protocol.md "REST") as TypeScript, for clients. The
 * server's DTO classes describe the same shapes for OpenAPI; these carry no decorators, so a
 * browser bundle can import them.
 */
export interface UserView {
  id: string;
  email: string;
  displayName: string | null;
  role: 'user' | 'admin';
  createdAt: string;
}

export interface AuthResponse {
  user: UserView;
  accessToken: string;
  refreshToken: string;
  /** Access token lifetime in seconds. */
  expiresIn: number;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface EventPage {
  items: SessionEvent[];
  hasMore: boolean;
}

export type SessionWithState = SessionView & { state: SessionStateView };

export interface StreamTicket {
  ticket: string;
  expiresAt: string;
}

export interface MessageAccepted {
  intentId: string;
  runId: string;
  seq: number;
}

export type { ErrorBody };

/** The SSE event name of a session event on `GET /sessions/:id/stream`. */
export const SSE_EVENT_NAME = 'session_event';
