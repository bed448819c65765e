import { ERROR_CODES } from './error-codes.js';
import {
  APPROVAL_SCOPES,
  CANCEL_REASONS,
  CLOSED_BY,
  DENY_REASON_MAX,
  DEQUEUE_REASONS,
  type EventDataMap,
  type EventType,
  type FormField,
  type SessionEventOf,
  FORM_FIELD_TYPES,
  INTERACTION_KINDS,
  INTERACTION_OUTCOMES,
  THINKING_STATUSES,
  THINKING_STEPS,
} from './events.js';
import {
  type InteractionView,
  type QueuedIntentView,
  RUN_STATUSES,
  type RunView,
  SESSION_STATUSES,
  type SessionStateView,
  type SessionView,
} from './session.js';
import {
  INBOX_STATUSES,
  SESSIONS_ACTIONS,
  type InboxEvent,
  type SessionsChange,
  type SocketError,
} from './socket.js';

/**
 * JSON schemas of the wire contract, one per event type, client payload and ack. Typed against
 * the contract's names (`satisfies Record<EventType, …>`), so a new event type or client event
 * without a schema does not compile, and each object schema is built by `shape<T>` from the
 * contract type it describes, so a field the type has and the schema lacks (or the reverse)
 * does not compile either. The AsyncAPI document is built from these (the client events' payloads
 * and acks are in socket-schemas.ts).
 */
export type JsonSchema = Record<string, unknown>;

export const uuid = { type: 'string', format: 'uuid' };
const dateTime = { type: 'string', format: 'date-time' };
const str = { type: 'string' };
export const int = { type: 'integer', minimum: 0 };
export const bool = { type: 'boolean' };

export function obj(
  properties: Record<string, JsonSchema>,
  required: string[] = Object.keys(properties),
): JsonSchema {
  return { type: 'object', properties, required, additionalProperties: false };
}

/** The keys of T that are not optional. */
type RequiredKeys<T> = {
  [K in keyof T]-?: Partial<Pick<T, K>> extends Pick<T, K> ? never : K;
}[keyof T] &
  string;

/**
 * The object schema of contract type T: `properties` must name exactly T's fields, and
 * `required` only fields T does not mark optional. It may be left out (all required) only when
 * T has no optional field, so an optional field is never documented as required.
 */
export function shape<T>(
  properties: { [K in keyof T]-?: JsonSchema },
  ...required: [keyof T] extends [RequiredKeys<T>]
    ? [list?: readonly RequiredKeys<T>[]]
    : [list: readonly RequiredKeys<T>[]]
): JsonSchema {
  return obj(properties, required[0] ? [...required[0]] : Object.keys(properties));
}

/** A string schema whose values are one of a contract's `as const` lists. */
export const oneOf = (values: readonly string[]): JsonSchema => ({
  type: 'string',
  enum: [...values],
});

export const EVENT_DATA_SCHEMAS = {
  user_message: shape<EventDataMap['user_message']>(
    {
      content: str,
      clientMessageId: str,
      parentIntentId: { ...uuid, type: ['string', 'null'] },
      queued: { type: 'boolean', const: true },
    },
    ['content', 'clientMessageId', 'parentIntentId'],
  ),
  task_started: shape<EventDataMap['task_started']>({ attempt: { type: 'integer', minimum: 1 } }),
  thinking: shape<EventDataMap['thinking']>(
    {
      step: oneOf(THINKING_STEPS),
      status: oneOf(THINKING_STATUSES),
      detail: str,
    },
    ['step', 'status'],
  ),
  generating: shape<EventDataMap['generating']>({ delta: str }),
  response: shape<EventDataMap['response']>({ content: str }),
  component: shape<EventDataMap['component']>({
    interactionId: uuid,
    kind: { type: 'string', const: 'form' },
    title: str,
    fields: {
      type: 'array',
      items: shape<FormField>({
        name: str,
        label: str,
        type: oneOf(FORM_FIELD_TYPES),
        required: bool,
      }),
    },
    expiresAt: dateTime,
  }),
  request_confirmation: shape<EventDataMap['request_confirmation']>({
    interactionId: uuid,
    tool: str,
    arguments: { type: 'object' },
    message: str,
    expiresAt: dateTime,
  }),
  interaction_resolved: shape<EventDataMap['interaction_resolved']>(
    {
      interactionId: uuid,
      outcome: oneOf(INTERACTION_OUTCOMES),
      connectionId: uuid,
      reason: { type: 'string', minLength: 1, maxLength: DENY_REASON_MAX },
      scope: oneOf(APPROVAL_SCOPES),
      arguments: {
        type: 'object',
        description: 'What the tool ran with, when the approval gave arguments',
      },
      edited: { ...bool, description: 'With arguments: whether they differ from those asked' },
    },
    ['interactionId', 'outcome'],
  ),
  task_failed: shape<EventDataMap['task_failed']>(
    { error: str, attempt: { type: 'integer', minimum: 1 }, canRetry: bool, interactionId: uuid },
    ['error', 'attempt', 'canRetry'],
  ),
  task_completed: shape<EventDataMap['task_completed']>({
    usage: shape<EventDataMap['task_completed']['usage']>({
      promptTokens: int,
      completionTokens: int,
    }),
  }),
  task_cancelled: shape<EventDataMap['task_cancelled']>({ reason: oneOf(CANCEL_REASONS) }),
  session_expired: shape<EventDataMap['session_expired']>({ idleMs: int }),
  session_closed: shape<EventDataMap['session_closed']>({ by: oneOf(CLOSED_BY) }),
  reminder_due: shape<EventDataMap['reminder_due']>({
    reminderId: uuid,
    label: str,
    dueAt: dateTime,
  }),
  intent_dequeued: shape<EventDataMap['intent_dequeued']>({
    intentId: uuid,
    reason: oneOf(DEQUEUE_REASONS),
  }),
  head_changed: shape<EventDataMap['head_changed']>({ intentId: uuid }),
  approval_granted: shape<EventDataMap['approval_granted']>({
    tool: str,
    scope: { type: 'string', const: 'session' },
    interactionId: uuid,
  }),
  approval_revoked: shape<EventDataMap['approval_revoked']>({ tool: str }),
} satisfies Record<EventType, JsonSchema>;

export function eventSchema(type: EventType): JsonSchema {
  return shape<SessionEventOf<EventType>>(
    {
      sessionId: uuid,
      seq: {
        type: 'integer',
        minimum: 1,
        description: 'Position in the session log: 1, 2, 3 … with no gaps',
      },
      type: { type: 'string', const: type },
      intentId: uuid,
      runId: uuid,
      connectionId: {
        ...uuid,
        description: 'The connection that caused the event (user_message, interaction_resolved)',
      },
      createdAt: dateTime,
      data: EVENT_DATA_SCHEMAS[type],
    },
    ['sessionId', 'seq', 'type', 'createdAt', 'data'],
  );
}

export const SESSION_SCHEMA = shape<SessionView>({
  id: uuid,
  title: { type: ['string', 'null'] },
  status: oneOf(SESSION_STATUSES),
  createdAt: dateTime,
  lastActivityAt: dateTime,
  lastSeq: int,
});

export const STATE_SCHEMA = shape<SessionStateView>({
  run: {
    oneOf: [
      { type: 'null' },
      shape<RunView>({
        id: uuid,
        intentId: uuid,
        status: oneOf(RUN_STATUSES),
        attempt: { type: 'integer', minimum: 1 },
        startedAt: dateTime,
      }),
    ],
  },
  pendingInteraction: {
    oneOf: [
      { type: 'null' },
      shape<InteractionView>({
        id: uuid,
        kind: oneOf(INTERACTION_KINDS),
        runId: uuid,
        intentId: uuid,
        expiresAt: dateTime,
        data: { type: 'object' },
      }),
    ],
  },
  headIntentId: { ...uuid, type: ['string', 'null'] },
  queue: {
    type: 'array',
    description: 'The queued intents, next first',
    items: shape<QueuedIntentView>({ intentId: uuid, content: str, createdAt: dateTime }),
  },
});

export const ERROR_SCHEMA = shape<SocketError>(
  {
    code: { type: 'string', enum: ERROR_CODES },
    message: str,
    details: { description: 'For VALIDATION_FAILED: [{field, problems}]' },
    retryAfterMs: {
      type: 'integer',
      minimum: 0,
      description: 'For RATE_LIMITED and UNAVAILABLE: milliseconds until a retry can succeed',
    },
  },
  ['code', 'message'],
);

/** The `inbox` server event: an interaction of the user's opened (pending) or closed (resolved). */
export const INBOX_SCHEMA = shape<InboxEvent>({
  interactionId: uuid,
  sessionId: uuid,
  kind: oneOf(INTERACTION_KINDS),
  status: oneOf(INBOX_STATUSES),
  seq: {
    type: 'integer',
    minimum: 1,
    description:
      'The seq of the session event that opened or closed it; per session, a higher seq wins',
  },
});

/** The `sessions` server event: one of the user's sessions created, renamed or closed. */
export const SESSIONS_SCHEMA = shape<SessionsChange>({
  action: {
    ...oneOf(SESSIONS_ACTIONS),
    description: 'created, updated (renamed) or closed',
  },
  session: { ...SESSION_SCHEMA, description: 'The session after the change, as REST returns it' },
});
