import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/**
 * Keep-alive HTTP connections that go idle during shutdown would hold `server.close()` open until
 * their idle timeout. This tracks plain HTTP connections (upgraded ones, i.e. WebSockets, are left
 * to Socket.IO) and, once draining, closes each as soon as it has no request in flight.
 */
export function trackHttpConnections(server: Server): { drain(): void } {
  const inFlight = new Map<Socket, number>();
  let draining = false;
  const closeIfIdle = (socket: Socket): void => {
    if (draining && (inFlight.get(socket) ?? 0) === 0) socket.destroySoon();
  };
  server.on('connection', (socket: Socket) => {
    inFlight.set(socket, 0);
    socket.once('close', () => inFlight.delete(socket));
  });
  server.on('upgrade', (req: IncomingMessage) => inFlight.delete(req.socket));
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket;
    if (!inFlight.has(socket)) return;
    inFlight.set(socket, (inFlight.get(socket) ?? 0) + 1);
    res.once('close', () => {
      if (!inFlight.has(socket)) return;
      inFlight.set(socket, Math.max(0, (inFlight.get(socket) ?? 1) - 1));
      closeIfIdle(socket);
    });
  });
  return {
    drain: () => {
      draining = true;
      for (const socket of inFlight.keys()) closeIfIdle(socket);
    },
  };
}
