import {
  uuid,
  int,
  bool,
  obj,
  shape,
  oneOf,
  ERROR_SCHEMA,
  SESSION_SCHEMA,
  STATE_SCHEMA,
  type JsonSchema,
} from './schemas.js';
import { APPROVAL_SCOPES, DENY_REASON_MAX, IF_BUSY_POLICIES } from './events.js';
import type { ClientAcks, ClientEventName, ClientPayloads } from './socket.js';

/**
 * JSON schemas of the client events of the /chat namespace: each payload and each ack, typed
 * against the contract (a client event without a schema does not compile). The AsyncAPI
 * document is built from these and from the event schemas (schemas.ts).
 */
const clientMessageId = { type: 'string', pattern: '^[\\w.:-]{1,128}$' };

export const CLIENT_PAYLOAD_SCHEMAS = {
  'session:create': shape<ClientPayloads['session:create']>(
    { title: { type: 'string', minLength: 1, maxLength: 200 } },
    [],
  ),
  'session:join': shape<ClientPayloads['session:join']>(
    { sessionId: uuid, afterSeq: { ...int, default: 0 } },
    ['sessionId'],
  ),
  'session:leave': shape<ClientPayloads['session:leave']>({ sessionId: uuid }),
  'message:send': shape<ClientPayloads['message:send']>(
    {
      sessionId: uuid,
      content: {
        type: 'string',
        description:
          'Trimmed, 1..MAX_MESSAGE_LENGTH (default 500) characters; no control characters but newline and tab',
      },
      clientMessageId,
      ifBusy: { ...oneOf(IF_BUSY_POLICIES), default: 'reject' },
      parentIntentId: {
        ...uuid,
        type: ['string', 'null'],
        description: 'The intent this message follows instead of the head; null: the very start',
      },
    },
    ['sessionId', 'content', 'clientMessageId'],
  ),
  'interaction:respond': shape<ClientPayloads['interaction:respond']>({
    sessionId: uuid,
    interactionId: uuid,
    response: {
      oneOf: [
        obj(
          {
            approved: { type: 'boolean', enum: [true] },
            arguments: {
              type: 'object',
              description: "Run the tool with these instead (checked against the tool's schema)",
            },
            scope: { ...oneOf(APPROVAL_SCOPES), default: 'once' },
          },
          ['approved'],
        ),
        obj(
          {
            approved: { type: 'boolean', enum: [false] },
            reason: { type: 'string', minLength: 1, maxLength: DENY_REASON_MAX },
          },
          ['approved'],
        ),
        obj({ values: { type: 'object', additionalProperties: { type: 'string' } } }),
        obj({ retry: bool }),
      ],
    },
  }),
  'run:cancel': shape<ClientPayloads['run:cancel']>({ sessionId: uuid }),
  'intent:resume': shape<ClientPayloads['intent:resume']>({ sessionId: uuid, intentId: uuid }),
  'intent:cancel': shape<ClientPayloads['intent:cancel']>({ sessionId: uuid, intentId: uuid }),
  'intent:regenerate': shape<ClientPayloads['intent:regenerate']>({
    sessionId: uuid,
    intentId: uuid,
  }),
  'session:checkout': shape<ClientPayloads['session:checkout']>({
    sessionId: uuid,
    intentId: uuid,
  }),
} satisfies Record<ClientEventName, JsonSchema>;

/** The success ack of event E: `ok: true` and exactly the fields of E's ack in the contract. */
const ok = <E extends ClientEventName>(properties: {
  [K in keyof ClientAcks[E]]-?: JsonSchema;
}): JsonSchema => obj({ ok: { type: 'boolean', const: true }, ...properties });

export const CLIENT_ACK_SCHEMAS = {
  'session:create': ok<'session:create'>({ session: SESSION_SCHEMA }),
  'session:join': ok<'session:join'>({
    session: SESSION_SCHEMA,
    state: STATE_SCHEMA,
    events: { type: 'array', maxItems: 500, items: { $ref: '#/components/schemas/SessionEvent' } },
    hasMore: bool,
  }),
  'session:leave': ok<'session:leave'>({}),
  'message:send': obj(
    {
      ok: { type: 'boolean', const: true },
      intentId: uuid,
      runId: { ...uuid, type: ['string', 'null'], description: 'null while the intent is queued' },
      seq: { type: 'integer', minimum: 1 },
      queued: { type: 'boolean', const: true },
      position: { type: 'integer', minimum: 1, description: 'Place in the queue, 1 = next' },
    },
    ['ok', 'intentId', 'runId', 'seq'],
  ),
  'interaction:respond': ok<'interaction:respond'>({}),
  'run:cancel': ok<'run:cancel'>({ runId: uuid }),
  'intent:resume': ok<'intent:resume'>({ runId: uuid }),
  'intent:cancel': ok<'intent:cancel'>({}),
  'intent:regenerate': ok<'intent:regenerate'>({ runId: uuid }),
  'session:checkout': ok<'session:checkout'>({ headIntentId: uuid }),
} satisfies Record<ClientEventName, JsonSchema>;

export const ACK_FAILURE_SCHEMA = obj({
  ok: { type: 'boolean', const: false },
  error: ERROR_SCHEMA,
});
