import type { IncomingMessage, ServerResponse } from 'node:http';
import { type BeforeApplicationShutdown, Inject, Injectable, Logger } from '@nestjs/common';
import { ClusterBus } from '../cluster/cluster-bus.js';
import { FaultPoints } from '../common/fault-points.js';
import type { SessionEvent } from '../contracts/events.js';
import { SSE_EVENT_NAME } from '../contracts/rest.js';
import { EventBus } from '../history/event-bus.js';
import { HistoryService, MAX_REPLAY_LIMIT } from '../history/history.service.js';
import { SeqSequencer } from '../history/seq-sequencer.js';
import { PresenceService } from './presence.service.js';
import { SessionsRepository } from './sessions.repository.js';

const PING_MS = 15_000;
/** A client this far behind is cut off; it resumes with Last-Event-ID, so nothing is lost. */
const MAX_BUFFERED_BYTES = 1024 * 1024;

/**
 * Server-Sent Events of one session's log. It subscribes to live events *before* replaying from
 * the database; a SeqSequencer starting at the client's position merges both, so nothing is lost
 * and nothing repeats at the seam, and a live event that skips seqs (events reach this node from
 * several writers) waits briefly for the missing ones, then they are read from the log.
 *
 * A stream ends with its session: when it sends `session_closed`, when a `session_closed` at or
 * before its position arrives (a Last-Event-ID from beyond the log), and, for a session already
 * closed when it opens, as soon as it has replayed what the log holds (nothing follows
 * `session_closed`, so nothing else will come). The status is read after subscribing: a close
 * not seen by that read commits later, and its `session_closed` reaches the subscription.
 */
@Injectable()
export class SessionStreamService implements BeforeApplicationShutdown {
  private readonly logger = new Logger(SessionStreamService.name);
  private readonly open = new Set<() => void>();

  constructor(
    @Inject(EventBus) private readonly bus: EventBus,
    @Inject(HistoryService) private readonly history: HistoryService,
    @Inject(PresenceService) private readonly presence: PresenceService,
    @Inject(ClusterBus) private readonly cluster: ClusterBus,
    @Inject(SessionsRepository) private readonly sessions: SessionsRepository,
    @Inject(FaultPoints) private readonly faults: FaultPoints,
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
    closedAtOpen = false,
  ): Promise<void> {
    if (stop?.aborted) return;
    // Closed is final and session_closed is in the log: nothing will ever come after the
    // position, and 204 is what tells an EventSource to stop reconnecting.
    if (closedAtOpen && (await this.history.listAfter(sessionId, afterSeq, 1)).length === 0) {
      if (!res.writableEnded) res.writeHead(204).end();
      return;
    }
    if (stop?.aborted) return;
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    res.write('retry: 2000\n\n');

    let closed = false;
    const send = (e: SessionEvent): void => {
      if (closed) return;
      res.write(`id: ${e.seq}\nevent: ${SSE_EVENT_NAME}\ndata: ${JSON.stringify(e)}\n\n`);
      // A closed session writes nothing more: the stream has said everything it will.
      if (e.type === 'session_closed' || res.writableLength > MAX_BUFFERED_BYTES) close();
    };
    const sequencer = new SeqSequencer({
      sessionId,
      log: this.history,
      start: afterSeq,
      emit: send,
      onError: (err) => this.fail(err, sessionId, close),
    });

    const unsubscribe = this.bus.subscribe(sessionId, (e) => {
      sequencer.push(e);
      // Dropped by the sequencer as already seen, yet the session has ended all the same.
      if (e.type === 'session_closed' && e.seq <= (sequencer.position ?? 0)) close();
    });
    const unwatch = this.presence.watch(sessionId);
    // Other nodes' events flow once the session's channel is subscribed (the bus subscription
    // above asks for it); what was published before that, or while Redis was away, is read from
    // the log each time the subscription is confirmed.
    const stopResync = this.cluster.onSessionLive(sessionId, () => {
      sequencer.resync(MAX_REPLAY_LIMIT);
      // A position beyond the log never sees session_closed in a read; were it lost on the
      // way, the status is the only sign left that the session has ended.
      this.endIfClosedBehind(sessionId, () => sequencer.position, close);
    });
    const ping = setInterval(() => res.write(': ping\n\n'), PING_MS);
    const close = (): void => {
      if (closed) return;
      closed = true;
      clearInterval(ping);
      unsubscribe();
      stopResync();
      sequencer.close();
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
      const closedBefore = (await this.sessions.findById(sessionId))?.status !== 'active';
      await this.faults.hit('stream.status-read');
      if (closed) return;
      await sequencer.catchUp(MAX_REPLAY_LIMIT);
      if (closedBefore) close();
    } catch (err) {
      this.fail(err, sessionId, close);
    }
  }

  /** Ends the stream if the session is closed and its whole log is at or before the position. */
  private endIfClosedBehind(
    sessionId: string,
    position: () => number | undefined,
    close: () => void,
  ): void {
    this.sessions.findById(sessionId).then(
      (row) => {
        if (row && row.status !== 'active' && Number(row.last_seq) <= (position() ?? 0)) close();
      },
      () => undefined, // the next confirmation, or session_closed on the bus, decides
    );
  }

  private fail(err: unknown, sessionId: string, close: () => void): void {
    this.logger.error({ err, sessionId }, 'event stream failed');
    close();
  }
}
