import type { INestApplicationContext } from '@nestjs/common';
import { IoAdapter } from '@nestjs/platform-socket.io';
import type { Server, ServerOptions } from 'socket.io';
import { createAdapter } from '@socket.io/redis-adapter';
import { RedisConnections } from '../cluster/redis-connections.js';
import { MAX_SOCKET_FRAME_BYTES } from '../contracts/socket.js';

/**
 * Socket.IO server options for this service: frames are capped at 64 KiB (an oversize frame
 * closes that one connection), CORS follows CORS_ORIGINS, and no cookies are involved (tokens
 * travel in the handshake's auth payload).
 */
export class ChatIoAdapter extends IoAdapter {
  constructor(
    app: INestApplicationContext,
    private readonly corsOrigins: readonly string[],
    private readonly redis: RedisConnections,
  ) {
    super(app);
  }

  override createIOServer(port: number, options?: ServerOptions): Server {
    const server = super.createIOServer(port, {
      ...options,
      maxHttpBufferSize: MAX_SOCKET_FRAME_BYTES,
      cors: { origin: [...this.corsOrigins], credentials: false },
      cookie: false,
      connectTimeout: 10_000,
      pingInterval: 20_000,
      pingTimeout: 20_000,
    } as ServerOptions);
    // With several nodes, disconnectSockets (and any other room operation) reaches every node's
    // sockets; session events do not go this way (SessionFanoutService emits them locally).
    if (this.redis.adapterPub && this.redis.adapterSub) {
      server.adapter(
        createAdapter(this.redis.adapterPub, this.redis.adapterSub, { key: 'hitl:socket.io' }),
      );
    }
    return server;
  }

  /**
   * The gateway dispatches every client event itself (socket.onAny), so Nest has no message
   * handlers to bind; its default still builds a disconnect observable chain per socket, which
   * the heap profile showed as a share of each idle connection's memory.
   */
  override bindMessageHandlers(
    socket: Parameters<IoAdapter['bindMessageHandlers']>[0],
    handlers: Parameters<IoAdapter['bindMessageHandlers']>[1],
    transform: Parameters<IoAdapter['bindMessageHandlers']>[2],
  ): void {
    if (handlers.length === 0) return;
    super.bindMessageHandlers(socket, handlers, transform);
  }

  /**
   * Nest's default wraps the callback in `once` and one more closure per socket; a Socket.IO
   * socket disconnects once, so a plain listener does the same with less held per connection.
   */
  override bindClientDisconnect(
    client: Parameters<IoAdapter['bindClientDisconnect']>[0],
    callback: (reason: string) => void,
  ): void {
    client.on('disconnect', callback);
  }
}
