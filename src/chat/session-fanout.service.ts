import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import type { SessionEvent } from '../contracts/events.js';
import { ClusterBus } from '../cluster/cluster-bus.js';
import { DomainError } from '../common/domain-error.js';
import { EventBus } from '../history/event-bus.js';
import { HistoryService, MAX_REPLAY_LIMIT } from '../history/history.service.js';
import { SeqSequencer } from '../history/seq-sequencer.js';
import { PresenceService } from '../sessions/presence.service.js';
import { SessionsRepository } from '../sessions/sessions.repository.js';

export type FanoutEmit = (sessionId: string, event: SessionEvent) => void;

interface Entry {
  sessionId: string;
  sequencer: SeqSequencer;
  refs: number;
  ready: Promise<void>;
  unsubscribe: () => void;
  stopLive: () => void;
  /** The node's one presence registration for the session, however many sockets watch it. */
  unwatch: () => void;
  unref: () => void;
}

/**
 * One socket's hold on a session: `ready` once live events flow, `release` (idempotent) when it
 * leaves. An object, not closures: every socket keeps one per session it has joined, and closures
 * with their contexts cost several times its two fields.
 */
export class SessionWatch {
  private released = false;

  constructor(private readonly entry: Entry) {}

  /** The session's id, one string shared by every watcher on this node. */
  get sessionId(): string {
    return this.entry.sessionId;
  }

  get ready(): Promise<void> {
    return this.entry.ready;
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    this.entry.unref();
  }
}

/**
 * Delivers each watched session's events to this node's sockets in seq order. Every node feeds a
 * per-session sequencer from the EventBus (events committed here and events relayed from other
 * nodes by the ClusterBus, which subscribes to the session's channel while the EventBus has a
 * listener for it, so the sequencer's subscription is what makes this node receive them) and emits to its own sockets only: the Socket.IO adapter never carries
 * session events between nodes, so no event can overtake another on a second connection.
 * A sequencer lives while at least one socket of this node is in the room; it starts at the log's
 * last seq when the first socket joins (the join replays what came before).
 */
@Injectable()
export class SessionFanoutService implements OnApplicationShutdown {
  private readonly logger = new Logger(SessionFanoutService.name);
  private readonly entries = new Map<string, Entry>();
  private emit: FanoutEmit | undefined;

  constructor(
    @Inject(EventBus) private readonly bus: EventBus,
    @Inject(HistoryService) private readonly history: HistoryService,
    @Inject(SessionsRepository) private readonly sessions: SessionsRepository,
    @Inject(PresenceService) private readonly presence: PresenceService,
    @Inject(ClusterBus) private readonly cluster: ClusterBus,
  ) {}

  /** Where ordered events go (the gateway: its own sockets in the session's room). */
  bind(emit: FanoutEmit): void {
    this.emit = emit;
  }

  /** Sessions with a live sequencer on this node. */
  get watchedSessions(): number {
    return this.entries.size;
  }

  /** Registers one watcher of a session (presence included). */
  watch(sessionId: string): SessionWatch {
    const entry = this.entries.get(sessionId) ?? this.open(sessionId);
    entry.refs += 1;
    return new SessionWatch(entry);
  }

  onApplicationShutdown(): void {
    for (const [id, entry] of [...this.entries]) this.drop(id, entry);
  }

  private open(sessionId: string): Entry {
    const sequencer = new SeqSequencer({
      sessionId,
      log: this.history,
      emit: (e) => this.emit?.(sessionId, e),
      onError: (err) => this.logger.warn({ err, sessionId }, 'could not read a gap of the log'),
    });
    // Subscribed before the position is read: whatever commits here after the read is already
    // held. Other nodes' events come once this node's subscription to the session's channel is
    // confirmed, which may be after the read: then the log is read from the position on, and again
    // whenever the subscription is re-established (what was published meanwhile is lost).
    const unsubscribe = this.bus.subscribe(sessionId, (e) => sequencer.push(e));
    const ready = this.sessions.findById(sessionId).then((row) => {
      if (!row) throw DomainError.notFound('Session');
      sequencer.begin(Number(row.last_seq));
    });
    const stopLive = this.cluster.onSessionLive(sessionId, () => {
      ready.then(
        () => sequencer.resync(MAX_REPLAY_LIMIT),
        () => undefined,
      );
    });
    const entry: Entry = {
      sessionId,
      sequencer,
      refs: 0,
      ready,
      unsubscribe,
      stopLive,
      unwatch: this.presence.watch(sessionId),
      unref: () => {
        entry.refs -= 1;
        if (entry.refs <= 0) this.drop(sessionId, entry);
      },
    };
    // A failed start is reported to each watcher through `ready`; the entry must not be reused.
    ready.catch(() => this.drop(sessionId, entry));
    this.entries.set(sessionId, entry);
    return entry;
  }

  private drop(sessionId: string, entry: Entry): void {
    entry.unwatch();
    entry.stopLive();
    entry.unsubscribe();
    entry.sequencer.close();
    if (this.entries.get(sessionId) === entry) this.entries.delete(sessionId);
  }
}
