import type { ErrorBody } from './error-codes.js';
import type { IfBusyPolicy, InteractionKind, SessionEvent } from './events.js';
import type { SessionStatus } from './session.js';

/**
 * Request and response bodies of the REST API (docs/protocol.md "REST") as TypeScript. The
 * server's DTO classes `implements` these (so a drift fails its typecheck) and add the
 * validation and OpenAPI decorators; these carry none, so a browser bundle can import them.
 * Admin routes are in rest-admin.ts.
 */
export const ROLES = ['user', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export interface UserView {
  id: string;
  email: string;
  displayName: string | null;
  role: Role;
  createdAt: string;
}

/** `POST /auth/register`. */
export interface RegisterRequest {
  email: string;
  /** At least 8 characters. */
  password: string;
  displayName?: string;
}

/** `POST /auth/login`. */
export interface LoginRequest {
  email: string;
  password: string;
}

/** `POST /auth/refresh` and `POST /auth/logout`. */
export interface RefreshRequest {
  refreshToken: string;
}

export interface AuthResponse {
  user: UserView;
  accessToken: string;
  refreshToken: string;
  /** Access token lifetime in seconds. */
  expiresIn: number;
}

/** `?limit=&cursor=` of every list route. */
export interface PageQuery {
  limit?: number;
  cursor?: string;
}

export interface Page<T> {
  items: T[];
  /** null on the last page. */
  nextCursor: string | null;
}

/** `POST /sessions`. */
export interface CreateSessionRequest {
  title?: string;
}

/** `PATCH /sessions/:id`: renames the session. */
export interface RenameSessionRequest {
  title: string;
}

/** `GET /sessions?status=&limit=&cursor=`. */
export interface ListSessionsQuery extends PageQuery {
  status?: SessionStatus;
}

/** `GET /sessions/:id/events?afterSeq=&limit=`. */
export interface EventsQuery {
  afterSeq?: number;
  limit?: number;
}

export interface EventPage {
  items: SessionEvent[];
  hasMore: boolean;
}

/** `GET /sessions/:id/stream?afterSeq=&ticket=`. */
export interface StreamQuery {
  afterSeq?: number;
  ticket?: string;
}

export interface StreamTicket {
  ticket: string;
  expiresAt: string;
}

/** `POST /sessions/:id/messages`: the REST twin of `message:send`. */
export interface SendMessageRequest {
  content: string;
  clientMessageId?: string;
  /** What happens while the session is busy (default `reject`: SESSION_BUSY). */
  ifBusy?: IfBusyPolicy;
  /** The intent this message follows instead of the head (editing); null: the very start. */
  parentIntentId?: string | null;
}

export interface MessageAccepted {
  intentId: string;
  /** The intent's first run; null while it waits in the queue. */
  runId: string | null;
  /** seq of the `user_message` event the message wrote. */
  seq: number;
  /** Present (true) when the intent was queued. */
  queued?: true;
  /** Its place in the queue when queued (1 = next). */
  position?: number;
}

/** `PUT /sessions/:id/head`: the REST twin of `session:checkout`. */
export interface CheckoutRequest {
  intentId: string;
}

export interface HeadResponse {
  headIntentId: string;
}

/** `POST /sessions/:id/interactions/:interactionId`: the REST twin of `interaction:respond`. */
export interface RespondRequest {
  response: unknown;
}

/** `POST /sessions/:id/cancel`, `.../intents/:intentId/resume`, `POST /admin/runs/:id/cancel`. */
export interface RunIdResponse {
  runId: string;
}

/** One standing grant of `GET /sessions/:id/approvals` (docs/protocol.md "Approvals"). */
export interface ApprovalGrantView {
  tool: string;
  scope: 'session';
  grantedAt: string;
  /** Who approved it: the user, and the connection the answer came from (none over REST). */
  grantedBy: { userId: string; connectionId?: string };
  /** The confirmation whose answer made the grant. */
  interactionId: string;
}

/** `GET /sessions/:id/approvals`: every standing grant of the session (a short list, one page). */
export interface ApprovalsList {
  items: ApprovalGrantView[];
}

/**
 * One tool the agent may call, as `GET /tools` lists it: a confirmation dialog builds its form for
 * editing the arguments from `parameters`.
 */
export interface ToolView {
  name: string;
  description: string;
  /** JSON schema (an object) of the arguments: the one edited arguments are checked against. */
  parameters: Record<string, unknown>;
  /** Whether a call pauses for `request_confirmation` (unless a standing grant approves it). */
  needsConfirmation: boolean;
}

/** `GET /tools`: every tool the agent offers (a short list, one page). */
export interface ToolsList {
  items: ToolView[];
}

export interface OkResponse {
  ok: boolean;
}

export const REMINDER_STATUSES = ['scheduled', 'fired', 'cancelled'] as const;
export type ReminderStatus = (typeof REMINDER_STATUSES)[number];

/** `GET /reminders?status=&limit=&cursor=`. */
export interface ListRemindersQuery extends PageQuery {
  status?: ReminderStatus;
}

export interface ReminderView {
  id: string;
  /** The session it was made in; `reminder_due` is written there. */
  sessionId: string | null;
  label: string;
  dueAt: string;
  status: ReminderStatus;
  createdAt: string;
  firedAt: string | null;
}

/** The statuses `GET /interactions` lists by (only the open questions, for now). */
export const INTERACTION_LIST_STATUSES = ['pending'] as const;
export type InteractionListStatus = (typeof INTERACTION_LIST_STATUSES)[number];

/** `GET /interactions?status=pending&limit=&cursor=`. */
export interface ListInteractionsQuery extends PageQuery {
  /** Default `pending`. */
  status?: InteractionListStatus;
}

/** One open question of the user's, in any of their sessions (the inbox). */
export interface PendingInteraction {
  interactionId: string;
  sessionId: string;
  sessionTitle: string | null;
  kind: InteractionKind;
  /** A confirmation's tool. */
  tool?: string;
  /** A form's title. */
  title?: string;
  createdAt: string;
  expiresAt: string;
}

export type { ErrorBody };

/** The SSE event name of a session event on `GET /sessions/:id/stream`. */
export const SSE_EVENT_NAME = 'session_event';
