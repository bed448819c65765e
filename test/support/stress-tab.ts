import type { LogEvent } from './log-invariants.js';
import { ask, type ClientSocket, connect } from './socket.js';

/** A join replays at most this many events (JOIN_REPLAY_LIMIT); a longer gap is read in pages. */
const REPLAY_PAGE = 500;

/**
 * One browser tab: a socket joined to one session, keeping what it received live. When its node
 * restarts it moves to the new one as a client would: a new socket, a join from the last seq it
 * saw, the replay and the live events merged by seq (dropping seqs it already has), so `live`
 * stays the one stream the socket checks read, across the move.
 */
export class StressTab {
  readonly live: LogEvent[] = [];
  joinedAfter = -1;
  /** Why the socket closed while the test still used it (the test closes them all at the end). */
  disconnectedBecause: string | undefined;
  socket!: ClientSocket;
  /** Set from just before its node stops until it joined the new one: no action goes out. */
  moving = false;
  /** Bumped at each move: an action that spans one may lose its ack (its node went away). */
  generation = 0;
  /** Live events that came while a rejoin's replay was not there yet. */
  private held: LogEvent[] | undefined;
  private moved: Promise<void> = Promise.resolve();
  private arrived: () => void = () => undefined;

  constructor(
    readonly label: string,
    socket: ClientSocket,
    readonly sessionId: string,
    private readonly token: string,
    private readonly seen: LogEvent[] = [],
  ) {
    this.attach(socket);
  }

  static async open(baseUrl: string, token: string, sessionId: string, label: string) {
    const socket = await connect(baseUrl, token);
    return new StressTab(label, socket, sessionId, token);
  }

  private attach(socket: ClientSocket): void {
    this.socket = socket;
    socket.on('session:event', (e: LogEvent & { sessionId: string }) => {
      if (e.sessionId !== this.sessionId || socket !== this.socket) return;
      if (this.held) return void this.held.push(e);
      // A socket that rejoined drops seqs it already had (the room is joined before the replay).
      if (this.generation > 0 && e.seq <= this.lastSeen) return;
      this.live.push(e);
      this.seen.push(e);
    });
    socket.on('disconnect', (reason, details) => {
      if (socket !== this.socket || this.moving) return;
      const detail = details instanceof Error ? `: ${details.message}` : '';
      this.disconnectedBecause = `${reason}${detail} at ${new Date().toISOString()}`;
    });
  }

  /** Joins after `afterSeq` (kept under the replay cap of 500 by the caller). */
  async join(afterSeq = 0): Promise<void> {
    for (;;) {
      await this.moved;
      const generation = this.generation;
      let r: any;
      try {
        r = await ask(this.socket, 'session:join', { sessionId: this.sessionId, afterSeq }, 20_000);
      } catch (err) {
        // Its node stopped while the join was on the way: join on the new one.
        if (this.moving || generation !== this.generation) continue;
        throw err;
      }
      if (!r.ok && (this.moving || generation !== this.generation)) continue;
      if (!r.ok) throw new Error(`${this.label}: join failed ${JSON.stringify(r)}`);
      const events = r.events as LogEvent[];
      this.seen.push(...events);
      this.joinedAfter = events.length > 0 ? events[events.length - 1].seq : afterSeq;
      return;
    }
  }

  /** Its node is about to stop: no more actions, and the disconnect to come is expected. */
  leaving(): void {
    this.moving = true;
    let done!: () => void;
    this.moved = new Promise((r) => (done = r));
    this.arrived = done;
  }

  /** Connects to the node at `baseUrl` and, if it had joined, rejoins from the last seq it saw. */
  async moveTo(baseUrl: string): Promise<void> {
    this.socket.close();
    const socket = await connect(baseUrl, this.token);
    this.generation += 1;
    const joined = this.joinedAfter >= 0;
    if (joined) this.held = [];
    this.attach(socket);
    try {
      if (joined) await this.rejoin(socket);
    } finally {
      this.held = undefined;
      this.moving = false;
      this.arrived();
    }
  }

  private async rejoin(socket: ClientSocket): Promise<void> {
    for (;;) {
      const r = await ask(
        socket,
        'session:join',
        { sessionId: this.sessionId, afterSeq: this.lastSeen },
        20_000,
      );
      if (!r.ok) throw new Error(`${this.label}: rejoin failed ${JSON.stringify(r)}`);
      const replay = r.events as LogEvent[];
      const more = r.hasMore === true && replay.length >= REPLAY_PAGE;
      const got = more ? replay : [...replay, ...this.held!].sort((x, y) => x.seq - y.seq);
      for (const e of got) {
        if (e.seq <= this.lastSeen) continue;
        this.live.push(e);
        this.seen.push(e);
      }
      if (!more) return;
    }
  }

  get lastSeen(): number {
    return this.live.at(-1)?.seq ?? this.joinedAfter;
  }

  /** The newest question this tab saw asked and not answered. */
  openQuestion(): { id: string; kind: 'confirm' | 'form' | 'retry'; fields: any[] } | undefined {
    const resolved = new Set(
      this.seen.filter((e) => e.type === 'interaction_resolved').map((e) => e.data.interactionId),
    );
    for (let i = this.seen.length - 1; i >= 0; i--) {
      const e = this.seen[i];
      const id = e.data?.interactionId as string | undefined;
      if (!id || resolved.has(id) || e.type === 'interaction_resolved') continue;
      if (e.type === 'request_confirmation') return { id, kind: 'confirm', fields: [] };
      if (e.type === 'component') return { id, kind: 'form', fields: e.data.fields };
      if (e.type === 'task_failed') return { id, kind: 'retry', fields: [] };
    }
    return undefined;
  }

  intents(): string[] {
    return [...new Set(this.seen.map((e) => e.intentId).filter((x): x is string => !!x))];
  }
}
