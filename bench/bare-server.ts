import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { Server } from 'socket.io';

/**
 * The ceiling: a bare Socket.IO server doing the same fan-out as the service, with no auth, no
 * validation and no persistence. Clients join rooms with `join`; the bench (over IPC) asks for
 * `events` events per room, shaped like session events, emitted as fast as the loop allows.
 */
interface FanoutRequest {
  kind: 'fanout';
  rooms: string[];
  events: number;
}

const http = createServer();
const io = new Server(http, {
  cookie: false,
  maxHttpBufferSize: 64 * 1024,
  pingInterval: 20_000,
  pingTimeout: 20_000,
});

io.of('/chat').on('connection', (socket) => {
  socket.on('join', (room: string, ack: (r: { ok: boolean }) => void) => {
    void socket.join(room);
    ack({ ok: true });
  });
});

async function fanout(req: FanoutRequest): Promise<void> {
  const ns = io.of('/chat');
  const ids = new Map(req.rooms.map((r) => [r, { runId: randomUUID(), intentId: randomUUID() }]));
  for (let seq = 1; seq <= req.events; seq++) {
    for (const room of req.rooms) {
      const id = ids.get(room)!;
      ns.to(room).emit('session:event', {
        sessionId: room,
        seq,
        type: seq === req.events ? 'task_completed' : 'generating',
        runId: id.runId,
        intentId: id.intentId,
        createdAt: new Date().toISOString(),
        data: { delta: `${seq} ` },
      });
    }
    // One round per loop turn, as the service emits one group commit per turn.
    await new Promise((r) => setImmediate(r));
  }
}

process.on('message', (m: FanoutRequest) => {
  if (m.kind !== 'fanout') return;
  void fanout(m).then(() => process.send?.({ kind: 'fanout-done' }));
});
process.once('SIGTERM', () => {
  void io.close();
  process.exit(0);
});

http.listen(0, '127.0.0.1', () => {
  const addr = http.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  process.stdout.write(`listening on http://127.0.0.1:${port}\n`);
});
