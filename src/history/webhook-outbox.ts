import type { EventType, NewEvent } from '../contracts/events.js';
import type { WebhookEventType } from '../contracts/rest-admin.js';

/**
 * Which session-log events webhooks report, and as what; every other type is not. The event log
 * writes the deliveries with the events (see history-batch.sql.ts), so this mapping lives here;
 * src/webhooks/ owns the endpoints and sends the deliveries.
 */
const BY_EVENT: Partial<Record<EventType, WebhookEventType>> = {
  request_confirmation: 'interaction.pending',
  component: 'interaction.pending',
  interaction_resolved: 'interaction.resolved',
  task_completed: 'run.completed',
  task_failed: 'run.failed',
  task_cancelled: 'run.cancelled',
  reminder_due: 'reminder.due',
  session_closed: 'session.closed',
};

/** One delivery's body, stored as is and sent unchanged on every attempt. */
export interface WebhookPayload {
  type: WebhookEventType;
  timestamp: string;
  data: Record<string, unknown>;
}

/**
 * The webhook payload reporting a stored event, or undefined when its type is not reported. The
 * ids come first, then the event's own fields; a confirmation says `kind: "confirm"` (a form's
 * data has `kind: "form"` already), so a receiver tells the two apart.
 */
export function webhookPayloadOf(
  event: NewEvent,
  stored: { userId: string; sessionId: string; seq: number; createdAt: string },
): WebhookPayload | undefined {
  const type = BY_EVENT[event.type];
  if (!type) return undefined;
  const data: Record<string, unknown> = {
    userId: stored.userId,
    sessionId: stored.sessionId,
    seq: stored.seq,
  };
  if (event.intentId) data.intentId = event.intentId;
  if (event.runId) data.runId = event.runId;
  if (event.type === 'request_confirmation') data.kind = 'confirm';
  Object.assign(data, event.data);
  return { type, timestamp: stored.createdAt, data };
}
