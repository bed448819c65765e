import type { EventEmitter } from 'node:events';
import { Inject, Injectable } from '@nestjs/common';
import { DomainError } from '../common/domain-error.js';
import { FaultPoints } from '../common/fault-points.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { type ClientAcks, JOIN_REPLAY_LIMIT } from '../contracts/socket.js';
import { MetricsService } from '../observability/metrics.service.js';
import { toSessionView } from '../sessions/sessions.repository.js';
import { SessionsService } from '../sessions/sessions.service.js';
import { RoomNames, sessionRoom, userRoom } from './room-names.js';
import { SessionFanoutService, type SessionWatch } from './session-fanout.service.js';
import type { ChatSocket } from './socket-handlers.js';

const gone = (): DomainError =>
  new DomainError('UNAVAILABLE', 'The connection closed while the join was in progress');

/**
 * What is kept per connected socket (the rest is on the socket itself). Kept small: a node holds
 * one per connection. A socket joins few sessions, so a list beats a Map's table.
 */
interface SocketEntry {
  watches: SessionWatch[];
  /** The socket's last join or leave while one is going (see inOrder). */
  membership: Promise<unknown> | undefined;
}

const watchOf = (entry: SocketEntry, sessionId: string): SessionWatch | undefined =>
  entry.watches.find((w) => w.sessionId === sessionId);

const forget = (entry: SocketEntry, watch: SessionWatch): void => {
  const at = entry.watches.indexOf(watch);
  if (at >= 0) entry.watches.splice(at, 1);
  watch.release();
};

/**
 * Which rooms each connected socket is in: its user's room from the start, and the sessions it
 * has joined, with its holds on the session fan-out, given up when it leaves or disconnects.
 * Joins and leaves of one socket run in the order they were sent.
 */
@Injectable()
export class SocketMemberships {
  private readonly entries = new Map<string, SocketEntry>();
  private readonly rooms = new RoomNames();
  /** MAX_JOINED_SESSIONS_PER_SOCKET: each join holds a sequencer, listeners, a subscription. */
  private readonly maxJoined: number;

  constructor(
    @Inject(SessionsService) private readonly sessions: SessionsService,
    @Inject(SessionFanoutService) private readonly fanout: SessionFanoutService,
    @Inject(MetricsService) private readonly metrics: MetricsService,
    @Inject(FaultPoints) private readonly faults: FaultPoints,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.maxJoined = config.limits.maxJoinedSessionsPerSocket;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Follows the namespace adapter's room deletions, so a room's name is not kept after it. */
  bind(adapter: EventEmitter): void {
    this.rooms.bind(adapter);
  }

  /** Whether this node keeps the name of `room` (it has a socket in it). */
  nameKept(room: string): boolean {
    return this.rooms.has(room);
  }

  connected(socket: ChatSocket): void {
    void socket.join(this.rooms.of(userRoom(socket.data.userId)));
    // Both fields from the start: one added later would cost the object a separate property store.
    this.entries.set(socket.id, { watches: [], membership: undefined });
  }

  /** Releases every hold of the socket; false when it was not known (already gone). */
  disconnected(socket: ChatSocket): boolean {
    const entry = this.entries.get(socket.id);
    if (!entry) return false;
    for (const watch of entry.watches) watch.release();
    this.entries.delete(socket.id);
    return true;
  }

  join(
    socket: ChatSocket,
    sessionId: string,
    afterSeq: number,
  ): Promise<ClientAcks['session:join']> {
    return this.inOrder(socket, () => this.doJoin(socket, sessionId, afterSeq));
  }

  leave(socket: ChatSocket, sessionId: string): Promise<object> {
    return this.inOrder(socket, () => this.doLeave(socket, sessionId));
  }

  /**
   * A join that overtook an earlier leave would be undone by it, and a join retried while the
   * first is going would be undone by the first one's failure.
   */
  private inOrder<T>(socket: ChatSocket, op: () => Promise<T>): Promise<T> {
    const entry = this.entries.get(socket.id);
    if (!entry) return op();
    const next = (entry.membership ?? Promise.resolve()).then(op);
    const settled = next.catch(() => undefined);
    entry.membership = settled;
    // An idle socket holds no settled promise chain.
    void settled.then(() => {
      if (entry.membership === settled) entry.membership = undefined;
    });
    return next;
  }

  private async doJoin(
    socket: ChatSocket,
    sessionId: string,
    afterSeq: number,
  ): Promise<ClientAcks['session:join']> {
    const session = await this.sessions.requireOwned(socket.data.userId, sessionId);
    await this.faults.hit('join.owned');
    const entry = this.entries.get(socket.id);
    // A socket that went away while this join awaited joins no room (Socket.IO makes its join a
    // no-op), so the room's name would be interned with no room whose deletion forgets it.
    if (!entry || !socket.connected) throw gone();
    const room = this.rooms.of(sessionRoom(session.id));
    // A join that fails undoes what it did, and only that: an earlier join of the same session
    // by this socket stays.
    const earlier = watchOf(entry, session.id);
    // Joins of one socket run one at a time (inOrder), so the count cannot be overtaken.
    if (!earlier && entry.watches.length >= this.maxJoined) {
      throw new DomainError(
        'QUOTA_EXCEEDED',
        `A connection may join at most ${this.maxJoined} sessions at once; leave one first`,
        { joined: entry.watches.length, max: this.maxJoined },
      );
    }
    const watch = earlier ?? this.fanout.watch(session.id);
    if (!earlier) entry.watches.push(watch);
    try {
      // Room first, replay second: everything up to the sequencer's position is in the log when
      // the replay reads it, everything after reaches the room live; clients drop seqs they saw.
      await socket.join(room);
      await watch.ready;
      const [page, state] = await Promise.all([
        this.sessions.page(session.id, afterSeq, JOIN_REPLAY_LIMIT),
        this.sessions.state(session.id),
      ]);
      const fresh = await this.sessions.requireOwned(socket.data.userId, sessionId);
      this.metrics.joins.inc();
      return { session: toSessionView(fresh), state, events: page.items, hasMore: page.hasMore };
    } catch (err) {
      if (!earlier && entry.watches.includes(watch)) {
        forget(entry, watch);
        await socket.leave(room);
      }
      throw err;
    }
  }

  /**
   * A session this socket holds was checked when it joined: leaving it needs no database, so a
   * leave during an outage still lets go (room, watch, presence). Any other id is checked, for
   * its NOT_FOUND; leaving a session one owns and does not hold is a no-op.
   */
  private async doLeave(socket: ChatSocket, sessionId: string): Promise<object> {
    const entry = this.entries.get(socket.id);
    const watch = entry && watchOf(entry, sessionId.toLowerCase());
    if (!entry || !watch) {
      await this.sessions.requireOwned(socket.data.userId, sessionId);
      return {};
    }
    forget(entry, watch);
    await socket.leave(sessionRoom(watch.sessionId));
    return {};
  }
}
