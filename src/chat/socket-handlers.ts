import type { Socket } from 'socket.io';
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
  IntentResumePayload,
  InteractionRespondPayload,
  MessageSendPayload,
  RunCancelPayload,
  SessionCreatePayload,
  SessionJoinPayload,
  SessionLeavePayload,
} from './dto/socket-payloads.dto.js';

export type ChatSocket = Socket<
  ClientToServerEvents,
  ServerToClientEvents,
  InterServerEvents,
  SocketData
>;

export interface Handler<E extends ClientEventName> {
  dto: new () => object;
  run(socket: ChatSocket, payload: ClientPayloads[E]): Promise<ClientAcks[E]>;
}

export type HandlerTable = { [E in ClientEventName]: Handler<E> };

/** The payload class of each client event (validated before the handler runs). */
export const PAYLOAD_CLASSES: { [E in ClientEventName]: new () => object } = {
  'session:create': SessionCreatePayload,
  'session:join': SessionJoinPayload,
  'session:leave': SessionLeavePayload,
  'message:send': MessageSendPayload,
  'interaction:respond': InteractionRespondPayload,
  'run:cancel': RunCancelPayload,
  'intent:resume': IntentResumePayload,
};
