import { EVENT_TYPES } from '../contracts/events.js';
import { CLIENT_EVENTS, CHAT_NAMESPACE, type ClientEventName } from '../contracts/socket.js';
import {
  ERROR_SCHEMA,
  eventSchema,
  INBOX_SCHEMA,
  SESSIONS_SCHEMA,
  type JsonSchema,
} from '../contracts/schemas.js';
import {
  ACK_FAILURE_SCHEMA,
  CLIENT_ACK_SCHEMAS,
  CLIENT_PAYLOAD_SCHEMAS,
} from '../contracts/socket-schemas.js';

/** `session:join` → `sessionJoin` (AsyncAPI component keys allow no colon). */
const key = (event: string): string =>
  event.replace(/[:_](\w)/g, (_, c: string) => c.toUpperCase());
const pascal = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

const CLIENT_DESCRIPTIONS: Record<ClientEventName, string> = {
  'session:create': 'Create a session (the connection does not join it).',
  'session:join':
    'Join the session room, then replay every event with seq > afterSeq (at most 500; page the rest over REST). Live events may arrive before this ack; clients drop seqs they have seen.',
  'session:leave': 'Stop receiving the session’s events on this connection.',
  'message:send':
    'Start a new intent, following parentIntentId (an intent of the session that is not queued; null: the start) or else the head. While a run goes or intents are queued, ifBusy decides: reject (default, SESSION_BUSY), enqueue (ack runId null, queued, position; QUEUE_FULL past QUEUE_MAX), interrupt (task_cancelled interrupted, then the new intent starts), rollback (as interrupt, and the ended intent leaves the conversation memory). The same clientMessageId returns the first ack again; a retry on offer is declined (no_retry).',
  'interaction:respond':
    '{approved} for confirm (with scope session: the tool runs unasked for the rest of the session, approval_granted), {values} for form, {retry} for retry. The first answer from any tab wins; later ones get INTERACTION_RESOLVED; SESSION_CLOSED once the session is closed.',
  'run:cancel':
    'Cancel the active run within 500 ms; CONFLICT when nothing runs (and then nothing changes: a retry on offer stays open); SESSION_CLOSED in a closed session.',
  'intent:resume':
    'A new run of an abandoned intent, or of one whose last run was interrupted; CONFLICT otherwise; SESSION_CLOSED in a closed session.',
  'intent:cancel':
    'Remove a queued intent (intent_dequeued, reason user); CONFLICT for an intent that is not queued; NOT_FOUND for one not of this session.',
  'intent:regenerate':
    'A new run (task_started with the next attempt) of the head intent when it is completed, failed or cancelled; its answer replaces the earlier one in the conversation memory. CONFLICT for any other intent or while a run is active.',
  'session:checkout':
    'Make an intent the head (head_changed): the next message follows it. CONFLICT while a run is active or for a queued intent.',
};

/** The AsyncAPI 3.0 document of the /chat namespace, built from the typed contract. */
export function buildAsyncApiDocument(version = '0.1.0'): JsonSchema {
  const messages: Record<string, JsonSchema> = {};
  const operations: Record<string, JsonSchema> = {};
  const channelMessages: Record<string, JsonSchema> = {};
  const ref = (name: string): JsonSchema => ({ $ref: `#/components/messages/${name}` });
  const chRef = (name: string): JsonSchema => ({ $ref: `#/channels/chat/messages/${name}` });

  for (const event of CLIENT_EVENTS) {
    const k = key(event);
    messages[k] = {
      name: event,
      title: event,
      summary: CLIENT_DESCRIPTIONS[event],
      payload: CLIENT_PAYLOAD_SCHEMAS[event],
    };
    messages[`${k}Ack`] = {
      name: `${event} ack`,
      title: `${event} acknowledgement`,
      summary: 'Exactly one ack per event: success, or {ok: false, error}.',
      payload: { oneOf: [CLIENT_ACK_SCHEMAS[event], ACK_FAILURE_SCHEMA] },
    };
    channelMessages[k] = ref(k);
    channelMessages[`${k}Ack`] = ref(`${k}Ack`);
    operations[k] = {
      action: 'receive',
      channel: { $ref: '#/channels/chat' },
      title: event,
      summary: CLIENT_DESCRIPTIONS[event],
      messages: [chRef(k)],
      reply: { channel: { $ref: '#/channels/chat' }, messages: [chRef(`${k}Ack`)] },
    };
  }

  messages.sessionEvent = {
    name: 'session:event',
    title: 'session:event',
    summary:
      'One entry of a session log, to every socket in the session room, in seq order; persisted before it is sent.',
    payload: { $ref: '#/components/schemas/SessionEvent' },
  };
  messages.inbox = {
    name: 'inbox',
    title: 'inbox',
    summary:
      'One of the user’s interactions opened (pending) or closed (resolved), in any of their sessions: to every socket of the user, whatever sessions it joined, after the commit. Not persisted; the list is GET /interactions?status=pending.',
    payload: INBOX_SCHEMA,
  };
  messages.sessions = {
    name: 'sessions',
    title: 'sessions',
    summary:
      'One of the user’s sessions created, renamed (updated) or closed, by any client or an operator: to every socket of the user, whatever sessions it joined, after the commit, so every tab’s session list stays current. Not persisted; the list is GET /sessions.',
    payload: SESSIONS_SCHEMA,
  };
  messages.authExpired = {
    name: 'auth_expired',
    title: 'auth_expired',
    summary: 'The access token expired; the server disconnects. Reconnect with a fresh token.',
    payload: { type: 'object', properties: { message: { type: 'string' } }, required: ['message'] },
  };
  messages.error = {
    name: 'error',
    title: 'error',
    summary:
      'Sent instead of an ack for an event that came without an ack callback (or an unknown event).',
    payload: {
      ...ERROR_SCHEMA,
      properties: { ...(ERROR_SCHEMA.properties as object), event: { type: 'string' } },
    },
  };
  for (const name of ['sessionEvent', 'inbox', 'sessions', 'authExpired', 'error']) {
    channelMessages[name] = ref(name);
    operations[`send${pascal(name)}`] = {
      action: 'send',
      channel: { $ref: '#/channels/chat' },
      title: (messages[name] as { name: string }).name,
      messages: [chRef(name)],
    };
  }

  const schemas: Record<string, JsonSchema> = {
    SessionEvent: {
      oneOf: EVENT_TYPES.map((t) => ({ $ref: `#/components/schemas/${pascal(key(t))}Event` })),
      discriminator: 'type',
    },
    Error: ERROR_SCHEMA,
  };
  for (const t of EVENT_TYPES) schemas[`${pascal(key(t))}Event`] = eventSchema(t);

  return {
    asyncapi: '3.0.0',
    info: {
      title: 'HITL agent backend: realtime API',
      version,
      description:
        'Socket.IO namespace `/chat` (default path `/socket.io`). Connect with `io(url + "/chat", { auth: { token } })` ' +
        'where token is the access token from /auth/login. A missing, malformed, expired, wrongly signed or disabled ' +
        "user's token (or one without exp) fails the handshake with connect_error message `UNAUTHORIZED`; a disallowed " +
        'browser Origin with `FORBIDDEN`; too many failed handshakes from one address (AUTH_RATE_LIMIT_PER_MINUTE) with ' +
        '`RATE_LIMITED`; an unreachable database with `UNAVAILABLE` (keep the token, retry after `data.retryAfterMs`). ' +
        'A socket that stops reading is disconnected once its outgoing buffer exceeds SOCKET_MAX_BUFFER_BYTES ' +
        '(default 4 MiB); it reconnects and replays from the log. Payloads at most 32 levels deep, no `constructor` ' +
        'or `__proto__` keys, no control characters but tab and newlines, no null field values. ' +
        'Every client event takes an ack callback and gets exactly one ack. Error codes: ' +
        (ERROR_SCHEMA.properties as { code: { enum: string[] } }).code.enum.join(', ') +
        '.',
    },
    defaultContentType: 'application/json',
    servers: {
      local: {
        host: 'localhost:3000',
        protocol: 'ws',
        pathname: '/socket.io',
        description: 'Socket.IO over WebSocket (or HTTP long-polling)',
        security: [{ $ref: '#/components/securitySchemes/handshakeToken' }],
      },
    },
    channels: {
      chat: {
        address: CHAT_NAMESPACE,
        title: 'The /chat namespace',
        description:
          'One connection may join any number of its user’s sessions; each session is the room `session:<id>`.',
        messages: channelMessages,
      },
    },
    operations,
    components: {
      messages,
      schemas,
      securitySchemes: {
        handshakeToken: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description:
            'The access token, sent as `auth.token` in the Socket.IO handshake (not as a header or cookie).',
        },
      },
    },
  };
}
