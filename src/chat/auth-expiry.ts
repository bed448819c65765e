import type { ChatSocket } from './socket-handlers.js';

/** setTimeout's longest delay; a later expiry is re-armed when this fires. */
const MAX_DELAY_MS = 2_147_483_647;

/**
 * Tells each socket whose access token expired (`auth_expired`, then a disconnect) with one timer
 * for the whole node instead of one per socket (a Timeout and its closure were a tenth of an idle
 * connection's heap). The timer is armed for the earliest expiry among the connected sockets;
 * when it fires, one pass over them handles every socket due and finds the next earliest. Token
 * expiries are whole seconds, so a node passes over its sockets at most once a second.
 */
export class AuthExpiry {
  private timer: NodeJS.Timeout | undefined;
  private armedFor = Infinity;

  constructor(
    private readonly sockets: () => Iterable<ChatSocket>,
    private readonly expire: (socket: ChatSocket) => void,
  ) {}

  /** A socket just connected: its expiry (`data.exp`, seconds) may be the earliest. */
  track(socket: ChatSocket): void {
    const at = socket.data.exp * 1000;
    if (at < this.armedFor) this.arm(at);
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.armedFor = Infinity;
  }

  private arm(at: number): void {
    clearTimeout(this.timer);
    this.armedFor = at;
    this.timer = setTimeout(
      () => this.sweep(),
      Math.max(0, Math.min(at - Date.now(), MAX_DELAY_MS)),
    );
    this.timer.unref();
  }

  private sweep(): void {
    this.timer = undefined;
    this.armedFor = Infinity;
    const now = Date.now();
    const due: ChatSocket[] = [];
    let next = Infinity;
    for (const socket of this.sockets()) {
      const at = socket.data.exp * 1000;
      if (at <= now) due.push(socket);
      else if (at < next) next = at;
    }
    for (const socket of due) this.expire(socket);
    if (next < Infinity) this.arm(next);
  }
}
