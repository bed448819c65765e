import type { PageQuery, UserView, Role } from './rest.js';
import type { RunStatus, SessionStatus, SessionView } from './session.js';

/** Bodies of the admin routes (docs/protocol.md "Admin"); role `admin` only. */

/** `GET /admin/users?q=&limit=&cursor=`. */
export interface ListUsersQuery extends PageQuery {
  /** Case-insensitive search in email and display name. */
  q?: string;
}

/** `PATCH /admin/users/:id`. */
export interface PatchUserRequest {
  role?: Role;
  disabled?: boolean;
}

export interface AdminUserView extends UserView {
  disabled: boolean;
}

/** `GET /admin/sessions?userId=&status=`. */
export interface AdminSessionsQuery extends PageQuery {
  userId?: string;
  status?: SessionStatus;
}

export interface AdminSessionView extends SessionView {
  userId: string;
}

/** `GET /admin/runs?status=`. */
export interface AdminRunsQuery extends PageQuery {
  status?: RunStatus;
}

export interface AdminRunView {
  id: string;
  intentId: string;
  sessionId: string;
  userId: string;
  attempt: number;
  status: RunStatus;
  nodeId: string;
  startedAt: string;
  endedAt: string | null;
}

/** `GET /admin/usage?userId=&from=&to=` (days as YYYY-MM-DD, UTC, inclusive). */
export interface UsageQuery {
  userId?: string;
  from?: string;
  to?: string;
}

export interface UsageRow {
  userId: string;
  day: string;
  messages: number;
  runs: number;
  promptTokens: number;
  completionTokens: number;
}

export interface UsageReport {
  items: UsageRow[];
}

export interface NodeStats {
  nodeId: string;
  /** Known for this node and for nodes that publish their counts; null otherwise. */
  connections: number | null;
  watchedSessions: number | null;
  activeRuns: number;
}

/** `GET /admin/stats`. */
export interface Stats {
  nodeId: string;
  nodes: NodeStats[];
  totals: Record<string, number>;
}

/** The event types a webhook endpoint subscribes to (docs/protocol.md "Webhooks"). */
export const WEBHOOK_EVENT_TYPES = [
  'interaction.pending',
  'interaction.resolved',
  'run.completed',
  'run.failed',
  'run.cancelled',
  'reminder.due',
  'session.closed',
] as const;

export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** `POST /admin/webhooks`. */
export interface CreateWebhookRequest {
  url: string;
  events: WebhookEventType[];
  description?: string;
}

/** An endpoint as `GET /admin/webhooks` lists it (never with its secret). */
export interface WebhookEndpointView {
  id: string;
  url: string;
  events: WebhookEventType[];
  description: string | null;
  createdAt: string;
}

/** `POST /admin/webhooks`'s answer: the only time the secret is shown. */
export interface CreatedWebhook extends WebhookEndpointView {
  secret: string;
}

/** `GET /admin/webhooks`. */
export interface WebhookEndpointList {
  items: WebhookEndpointView[];
}

/** One delivery of `GET /admin/webhooks/:id/deliveries`. */
export interface WebhookDeliveryView {
  id: string;
  eventType: WebhookEventType;
  attempts: number;
  status: 'pending' | 'delivered' | 'failed';
  lastStatusCode?: number;
  lastError?: string;
  nextAttemptAt?: string;
  createdAt: string;
  deliveredAt?: string;
}
