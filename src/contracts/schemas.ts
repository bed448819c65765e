import { ERROR_CODES } from './error-codes.js';
import { type EventType, THINKING_STEPS } from './events.js';
import { type ClientEventName, RUN_STATUSES } from './socket.js';

/**
 * JSON schemas of the wire contract, one per event type, client payload and ack. Typed against
 * the contract's names (`satisfies Record<EventType, …>`), so a new event type or client event
 * without a schema does not compile. The AsyncAPI document is built from these.
 */
export type JsonSchema = Record<string, unknown>;

const uuid = { type: 'string', format: 'uuid' };
const dateTime = { type: 'string', format: 'date-time' };
const str = { type: 'string' };
const int = { type: 'integer', minimum: 0 };
const bool = { type: 'boolean' };

export function obj(
  properties: Record<string, JsonSchema>,
  required: string[] = Object.keys(properties),
): JsonSchema {
  return { type: 'object', properties, required, additionalProperties: false };
}

export const INTERACTION_OUTCOMES = [
  'approved',
  'denied',
  'submitted',
  'retry',
  'no_retry',
  'timeout',
  'cancelled',
];

export const EVENT_DATA_SCHEMAS = {
  user_message: obj({ content: str, clientMessageId: str }),
  task_started: obj({ attempt: { type: 'integer', minimum: 1 } }),
  thinking: obj(
    {
      step: { type: 'string', enum: [...THINKING_STEPS] },
      status: { type: 'string', enum: ['started', 'completed', 'failed'] },
      detail: str,
    },
    ['step', 'status'],
  ),
  generating: obj({ delta: str }),
  response: obj({ content: str }),
  component: obj({
    interactionId: uuid,
    kind: { type: 'string', const: 'form' },
    title: str,
    fields: {
      type: 'array',
      items: obj({
        name: str,
        label: str,
        type: { type: 'string', enum: ['text', 'datetime', 'number'] },
        required: bool,
      }),
    },
    expiresAt: dateTime,
  }),
  request_confirmation: obj({
    interactionId: uuid,
    tool: str,
    arguments: { type: 'object' },
    message: str,
    expiresAt: dateTime,
  }),
  interaction_resolved: obj(
    {
      interactionId: uuid,
      outcome: { type: 'string', enum: INTERACTION_OUTCOMES },
      connectionId: uuid,
    },
    ['interactionId', 'outcome'],
  ),
  task_failed: obj(
    { error: str, attempt: { type: 'integer', minimum: 1 }, canRetry: bool, interactionId: uuid },
    ['error', 'attempt', 'canRetry'],
  ),
  task_completed: obj({ usage: obj({ promptTokens: int, completionTokens: int }) }),
  task_cancelled: obj({
    reason: { type: 'string', enum: ['user', 'admin', 'expired', 'shutdown'] },
  }),
  session_expired: obj({ idleMs: int }),
  session_closed: obj({ by: { type: 'string', enum: ['user', 'admin'] } }),
  reminder_due: obj({ reminderId: uuid, label: str, dueAt: dateTime }),
} satisfies Record<EventType, JsonSchema>;

export function eventSchema(type: EventType): JsonSchema {
  return obj(
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

export const SESSION_SCHEMA = obj({
  id: uuid,
  title: { type: ['string', 'null'] },
  status: { type: 'string', enum: ['active', 'closed'] },
  createdAt: dateTime,
  lastActivityAt: dateTime,
  lastSeq: int,
});

export const STATE_SCHEMA = obj({
  run: {
    oneOf: [
      { type: 'null' },
      obj({
        id: uuid,
        intentId: uuid,
        status: {
          type: 'string',
          enum: [...RUN_STATUSES],
        },
        attempt: { type: 'integer', minimum: 1 },
        startedAt: dateTime,
      }),
    ],
  },
  pendingInteraction: {
    oneOf: [
      { type: 'null' },
      obj({
        id: uuid,
        kind: { type: 'string', enum: ['confirm', 'form', 'retry'] },
        runId: uuid,
        intentId: uuid,
        expiresAt: dateTime,
        data: { type: 'object' },
      }),
    ],
  },
});

export const ERROR_SCHEMA = obj(
  {
    code: { type: 'string', enum: ERROR_CODES },
    message: str,
    details: { description: 'For VALIDATION_FAILED: [{field, problems}]' },
    retryAfterMs: { type: 'integer', minimum: 0, description: 'For RATE_LIMITED' },
  },
  ['code', 'message'],
);

const clientMessageId = { type: 'string', pattern: '^[\\w.:-]{1,128}$' };

export const CLIENT_PAYLOAD_SCHEMAS = {
  'session:create': obj({ title: { type: 'string', minLength: 1, maxLength: 200 } }, []),
  'session:join': obj({ sessionId: uuid, afterSeq: { ...int, default: 0 } }, ['sessionId']),
  'session:leave': obj({ sessionId: uuid }),
  'message:send': obj({
    sessionId: uuid,
    content: {
      type: 'string',
      description:
        'Trimmed, 1..MAX_MESSAGE_LENGTH (default 500) characters; no control characters but newline and tab',
    },
    clientMessageId,
  }),
  'interaction:respond': obj({
    sessionId: uuid,
    interactionId: uuid,
    response: {
      oneOf: [
        obj({ approved: bool }),
        obj({ values: { type: 'object', additionalProperties: { type: 'string' } } }),
        obj({ retry: bool }),
      ],
    },
  }),
  'run:cancel': obj({ sessionId: uuid }),
  'intent:resume': obj({ sessionId: uuid, intentId: uuid }),
} satisfies Record<ClientEventName, JsonSchema>;

const ok = (properties: Record<string, JsonSchema> = {}): JsonSchema =>
  obj({ ok: { type: 'boolean', const: true }, ...properties });

export const CLIENT_ACK_SCHEMAS = {
  'session:create': ok({ session: SESSION_SCHEMA }),
  'session:join': ok({
    session: SESSION_SCHEMA,
    state: STATE_SCHEMA,
    events: { type: 'array', maxItems: 500, items: { $ref: '#/components/schemas/SessionEvent' } },
    hasMore: bool,
  }),
  'session:leave': ok(),
  'message:send': ok({ intentId: uuid, runId: uuid, seq: { type: 'integer', minimum: 1 } }),
  'interaction:respond': ok(),
  'run:cancel': ok({ runId: uuid }),
  'intent:resume': ok({ runId: uuid }),
} satisfies Record<ClientEventName, JsonSchema>;

export const ACK_FAILURE_SCHEMA = obj({
  ok: { type: 'boolean', const: false },
  error: ERROR_SCHEMA,
});
