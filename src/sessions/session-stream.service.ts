import type { IncomingMessage, ServerResponse } from 'node:http';
import { type BeforeApplicationShutdown, Inject, Injectable, Logger } from '@nestjs/common';
import type { SessionEvent } from '../contracts/events.js';
import { SSE_EVENT_NAME } from '../contracts/rest.js';
import { EventBus } from '../history/event-bus.js';
import { HistoryService, MAX_REPLAY_LIMIT } from '../history/history.service.js';
import { PresenceService } from './presence.service.js';

const PING_MS = 15_000;
/** A client this far behind is cut off; it resumes with Last-Event-ID, so nothing is lost. */
const MAX_BUFFERED_BYTES = 1024 * 1024;

/**
 * Server-Sent Events of one session's log. It subscribes to live events *before* replaying from
 * the database, holds live events back until the replay is done, then sends only seqs above the
 * last one sent: nothing is lost and nothing repeats at the seam. A live event that skips seqs
 * (possible when events reach this node from several writers) triggers a read of the gap.
 */
@Injectable()
export class SessionStreamService implements BeforeApplicationShutdown {
  private readonly logger = new Logger(SessionStreamService.name);
  private readonly open = new Set<() => void>();

  constructor(
    @Inject(EventBus) private readonly bus: EventBus,
    @Inject(HistoryService) private readonly history: HistoryService,
    @Inject(PresenceService) private readonly presence: PresenceService,
  ) {}

  beforeApplicationShutdown(): void {
    for (const close of [...this.open]) close();
  }

  async stream(
    req: IncomingMessage,
    res: ServerResponse,
    sessionId: string,
    afterSeq: number,
    stop?: AbortSignal,
  ): Promise<void> {
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    res.write('retry: 2000\n\n');

    let last = afterSeq;
    let live = false;
    let closed = false;
    const held: SessionEvent[] = [];
    let chain: Promise<void> = Promise.resolve();

    const send = (e: SessionEvent): void => {
      if (closed || e.seq <= last) return;
      res.write(`id: ${e.seq}\nevent: ${SSE_EVENT_NAME}\ndata: ${JSON.stringify(e)}\n\n`);
      last = e.seq;
      // A closed session writes nothing more: the stream has said everything it will.
      if (e.type === 'session_closed' || res.writableLength > MAX_BUFFERED_BYTES) close();
    };
    const deliver = async (e: SessionEvent): Promise<void> => {
      if (closed || e.seq <= last) return;
      if (e.seq > last + 1) {
        for (const missing of await this.history.listBetween(sessionId, last, e.seq)) send(missing);
      }
      send(e);
    };
    const onLive = (e: SessionEvent): void => {
      if (!live) {
        held.push(e);
        return;
      }
      chain = chain
        .then(() => deliver(e))
        .catch((err: unknown) => this.fail(err, sessionId, close));
    };

    const unsubscribe = this.bus.subscribe(sessionId, onLive);
    const unwatch = this.presence.watch(sessionId);
    const ping = setInterval(() => res.write(': ping\n\n'), PING_MS);
    const close = (): void => {
      if (closed) return;
      closed = true;
      clearInterval(ping);
      unsubscribe();
      unwatch();
      this.open.delete(close);
      stop?.removeEventListener('abort', close);
      if (!res.writableEnded) res.end();
    };
    this.open.add(close);
    if (stop?.aborted) close();
    stop?.addEventListener('abort', close);
    req.on('close', close);
    res.on('error', close);

    try {
      for (;;) {
        const page = await this.history.listAfter(sessionId, last, MAX_REPLAY_LIMIT);
        for (const e of page) send(e);
        if (page.length < MAX_REPLAY_LIMIT || closed) break;
      }
      live = true;
      for (const e of held.splice(0)) onLive(e);
    } catch (err) {
      this.fail(err, sessionId, close);
    }
  }

  private fail(err: unknown, sessionId: string, close: () => void): void {
    this.logger.error({ err, sessionId }, 'event stream failed');
    close();
  }
}
