import { io, type Socket } from 'socket.io-client';

export type ClientSocket = Socket;

/** Connects to /chat with a token; resolves once connected, rejects with the connect_error. */
export function connect(
  baseUrl: string,
  token: string | undefined,
  opts: { origin?: string; reconnection?: boolean; headers?: Record<string, string> } = {},
): Promise<ClientSocket> {
  const headers = { ...opts.headers, ...(opts.origin ? { origin: opts.origin } : {}) };
  const socket = io(`${baseUrl}/chat`, {
    auth: token === undefined ? {} : { token },
    transports: ['websocket'],
    reconnection: opts.reconnection ?? false,
    forceNew: true,
    ...(Object.keys(headers).length > 0 ? { extraHeaders: headers } : {}),
  });
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (err) => {
      socket.close();
      reject(err);
    });
  });
}

/** Emits with an ack and resolves with the ack (fails the test after `timeoutMs`). */
export function ask<T = any>(
  socket: ClientSocket,
  event: string,
  payload?: unknown,
  timeoutMs = 5000,
): Promise<T> {
  return socket.timeout(timeoutMs).emitWithAck(event, payload) as Promise<T>;
}

/** Collects every session:event a socket receives (the order they arrived). */
export class EventLog {
  readonly events: any[] = [];
  private waiters: { pred: () => boolean; resolve: () => void }[] = [];

  constructor(socket: ClientSocket) {
    socket.on('session:event', (e: any) => {
      this.events.push(e);
      this.waiters = this.waiters.filter((w) => (w.pred() ? (w.resolve(), false) : true));
    });
  }

  of(sessionId: string): any[] {
    return this.events.filter((e) => e.sessionId === sessionId);
  }

  types(sessionId: string): string[] {
    return this.of(sessionId).map((e) => e.type);
  }

  until(pred: (events: any[]) => boolean, timeoutMs = 10_000): Promise<void> {
    if (pred(this.events)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(`timed out; got ${this.events.map((e) => `${e.seq}:${e.type}`).join(' ')}`),
          ),
        timeoutMs,
      );
      this.waiters.push({
        pred: () => pred(this.events),
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }

  /** Waits until the session's log ends with one of the run-closing events after `fromSeq`. */
  untilRunEnds(sessionId: string, fromSeq = 0, timeoutMs = 10_000): Promise<void> {
    return this.until(
      () =>
        this.of(sessionId).some(
          (e) =>
            e.seq > fromSeq && ['task_completed', 'task_cancelled', 'task_failed'].includes(e.type),
        ),
      timeoutMs,
    );
  }
}
