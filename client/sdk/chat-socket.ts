import { io } from 'socket.io-client';
import {
  type Ack,
  CHAT_NAMESPACE,
  type ClientAcks,
  type ClientEventName,
  type ClientPayloads,
  type ServerToClientEvents,
} from '@hitl/contracts';
import { ApiError } from './http.js';

/** The part of a Socket.IO connection the client uses; one object per connection attempt. */
export interface ChatSocketLike {
  readonly connected: boolean;
  on(event: 'connect', fn: () => void): void;
  on(event: 'disconnect', fn: (reason: string) => void): void;
  on(event: 'connect_error', fn: (err: { message: string }) => void): void;
  on<E extends keyof ServerToClientEvents>(event: E, fn: ServerToClientEvents[E]): void;
  emit<E extends ClientEventName>(
    event: E,
    payload: ClientPayloads[E],
    ack: (res: Ack<ClientAcks[E]>) => void,
  ): void;
  disconnect(): void;
}

export type SocketFactory = (url: string, token: string) => ChatSocketLike;

/** A real Socket.IO connection to `/chat`; reconnecting is the client's job, not socket.io's. */
export const socketIoFactory: SocketFactory = (url, token) =>
  io(url + CHAT_NAMESPACE, {
    auth: { token },
    reconnection: false,
    forceNew: true,
  });

/**
 * Acks over one connection. Socket.IO never calls the ack of an emit whose connection dropped,
 * so requests still open when it drops are failed here with a NETWORK error.
 */
export class SocketRequests {
  private readonly open = new Set<(err: ApiError) => void>();

  constructor(readonly socket: ChatSocketLike) {
    socket.on('disconnect', () => {
      for (const fail of [...this.open]) fail(new ApiError('NETWORK', 'Connection lost'));
      this.open.clear();
    });
  }

  request<E extends ClientEventName>(
    event: E,
    payload: ClientPayloads[E],
  ): Promise<{ ok: true } & ClientAcks[E]> {
    return new Promise((resolve, reject) => {
      if (!this.socket.connected) {
        reject(new ApiError('NETWORK', 'Not connected'));
        return;
      }
      const fail = (err: ApiError): void => reject(err);
      this.open.add(fail);
      this.socket.emit(event, payload, (res) => {
        if (!this.open.delete(fail)) return;
        if (res.ok) resolve(res);
        else
          reject(
            new ApiError(
              res.error.code,
              res.error.message,
              0,
              res.error.details,
              res.error.retryAfterMs,
            ),
          );
      });
    });
  }
}

/** A UUID also where `crypto.randomUUID` is missing (pages served over plain http on a LAN). */
export function newClientMessageId(): string {
  const c = globalThis.crypto;
  if (typeof c.randomUUID === 'function') return c.randomUUID();
  const b = c.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** Exponential backoff with equal jitter: half fixed, half random, capped. */
export function backoffDelay(
  attempt: number,
  baseMs: number,
  maxMs: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}
