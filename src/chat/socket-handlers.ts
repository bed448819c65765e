import type { Namespace, Socket } from 'socket.io';
import type {
  ClientAcks,
  ClientEventName,
  ClientPayloads,
  ClientToServerEvents,
  InterServerEvents,
  ServerToClientEvents,
  SocketData,
} from '../contracts/socket.js';
import {
  IntentCancelPayload,
  IntentRegeneratePayload,
  IntentResumePayload,
  SessionCheckoutPayload,
  InteractionRespondPayload,
  MessageSendPayload,
  RunCancelPayload,
  SessionCreatePayload,
  SessionJoinPayload,
  SessionLeavePayload,
} from './dto/socket-payloads.dto.js';
import { validatePayload } from './socket-errors.js';

export type ChatSocket = Socket<
  ClientToServerEvents,
  ServerToClientEvents,
  InterServerEvents,
  SocketData
>;

export type ChatNamespace = Namespace<
  ClientToServerEvents,
  ServerToClientEvents,
  InterServerEvents,
  SocketData
>;

/** A client event's handler: it gets that event's validated payload and returns its ack. */
interface Handler<E extends ClientEventName> {
  run(socket: ChatSocket, payload: ClientPayloads[E]): Promise<ClientAcks[E]>;
}

export type HandlerTable = { [E in ClientEventName]: Handler<E> };

/**
 * The payload class of each client event (validated before the handler runs). Each class
 * constructs that event's payload type, so the table cannot pair an event with another's class.
 */
const PAYLOAD_CLASSES: { [E in ClientEventName]: new () => ClientPayloads[E] } = {
  'session:create': SessionCreatePayload,
  'session:join': SessionJoinPayload,
  'session:leave': SessionLeavePayload,
  'message:send': MessageSendPayload,
  'interaction:respond': InteractionRespondPayload,
  'run:cancel': RunCancelPayload,
  'intent:resume': IntentResumePayload,
  'intent:cancel': IntentCancelPayload,
  'intent:regenerate': IntentRegeneratePayload,
  'session:checkout': SessionCheckoutPayload,
};

/** Validates `payload` against event E's class and runs E's handler with it. */
export async function dispatch<E extends ClientEventName>(
  handlers: HandlerTable,
  name: E,
  socket: ChatSocket,
  payload: unknown,
): Promise<ClientAcks[E]> {
  const handler: Handler<E> = handlers[name];
  const valid = await validatePayload<ClientPayloads[E]>(PAYLOAD_CLASSES[name], payload);
  return handler.run(socket, valid);
}
