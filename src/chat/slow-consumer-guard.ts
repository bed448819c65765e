import { Logger } from '@nestjs/common';
import type { Namespace, Socket } from 'socket.io';
import { PeriodicJob } from '../common/periodic-job.js';
import type { MetricsService } from '../observability/metrics.service.js';

/** How often every socket's outgoing buffer is measured. */
const CHECK_EVERY_MS = 250;

interface EngineConnection {
  writeBuffer?: { data?: unknown }[];
  transport?: { socket?: { bufferedAmount?: unknown } };
}

/**
 * Bytes a socket has been sent but its client has not taken: engine.io's write buffer (packets
 * waiting for the transport to become writable, or for a polling client's next request) plus,
 * on WebSocket, what the `ws` socket holds beyond the kernel's buffers.
 */
function bufferedBytes(socket: Socket): number {
  const conn = socket.conn as unknown as EngineConnection;
  let bytes = 0;
  for (const packet of conn.writeBuffer ?? []) {
    const data = packet.data;
    if (typeof data === 'string') bytes += data.length;
    else if (data instanceof Uint8Array) bytes += data.byteLength;
  }
  const ws = conn.transport?.socket?.bufferedAmount;
  if (typeof ws === 'number') bytes += ws;
  return bytes;
}

/**
 * Disconnects sockets whose outgoing buffer exceeds SOCKET_MAX_BUFFER_BYTES (a client that
 * stopped reading), so one slow consumer cannot grow the server's memory without bound. The
 * client reconnects and replays from the log. Between two checks a buffer can grow by what the
 * node emits in CHECK_EVERY_MS.
 */
export class SlowConsumerGuard {
  private readonly logger = new Logger(SlowConsumerGuard.name);
  private job: PeriodicJob | undefined;

  constructor(
    private readonly maxBytes: number,
    private readonly metrics: MetricsService,
  ) {}

  start(ns: Namespace): void {
    this.job = new PeriodicJob({
      name: 'slow consumer check',
      everyMs: CHECK_EVERY_MS,
      run: () => this.check(ns),
      logger: this.logger,
    });
    this.job.start();
  }

  stop(): void {
    void this.job?.stop();
  }

  check(ns: Namespace): void {
    for (const socket of ns.sockets.values()) {
      const bytes = bufferedBytes(socket);
      if (bytes <= this.maxBytes) continue;
      this.metrics.slowConsumerDisconnects.inc();
      this.logger.warn(
        {
          userId: (socket.data as { userId?: string }).userId,
          connectionId: (socket.data as { connectionId?: string }).connectionId,
          bufferedBytes: bytes,
        },
        'slow consumer disconnected',
      );
      socket.disconnect(true);
      // The close handshake would queue behind the unread data: drop the transport now.
      socket.conn.close();
    }
  }
}
