import type { Logger } from '@nestjs/common';
import type { Redis } from 'ioredis';

/** `sharded`: SSUBSCRIBE/SPUBLISH (Redis 7+); `classic`: SUBSCRIBE/PUBLISH on the same names. */
export type PubSubMode = 'sharded' | 'classic';

/** After a failed (un)subscribe, the next try of that channel waits this long. */
const CHANNEL_RETRY_MS = 1000;

/** The braces are a Redis Cluster hash tag: a session's channel lives on one shard. */
export function sessionChannel(sessionId: string): string {
  return `hitl:s:{${sessionId}}`;
}

export const SESSION_CHANNEL_PREFIX = 'hitl:s:{';

interface Channel {
  subscribed: boolean;
  /** An (un)subscribe of this channel is in flight; the next waits for its answer. */
  busy: boolean;
  retry: NodeJS.Timeout | undefined;
}

/**
 * Which session channels the bus connection is subscribed to, kept equal to the sessions watched
 * on this node. Each channel has at most one command in flight; when it answers, the channel is
 * compared with what is wanted again, so a watcher that leaves while its subscribe is pending ends
 * in an unsubscribe, and a failed command is tried again later. `onLive` runs each time a wanted
 * channel's subscription is confirmed: whatever was published before that must be read from the log.
 */
export class SessionChannels {
  private readonly wanted = new Set<string>();
  private readonly channels = new Map<string, Channel>();
  private mode: PubSubMode | undefined;
  private stopped = false;
  failures = 0;

  constructor(
    private readonly sub: Redis,
    private readonly onLive: (sessionId: string) => void,
    private readonly logger: Logger,
    /** Runs before each subscribe is sent (a test's fault point). */
    private readonly beforeSubscribe: () => Promise<void> | void = () => undefined,
  ) {}

  /** Channels currently subscribed (confirmed by Redis). */
  get subscribedCount(): number {
    let n = 0;
    for (const c of this.channels.values()) if (c.subscribed) n += 1;
    return n;
  }

  /** Channels with a (un)subscribe in flight or waiting to be tried again. */
  get pendingCount(): number {
    let n = 0;
    for (const c of this.channels.values()) if (c.busy || c.retry) n += 1;
    return n;
  }

  want(sessionId: string): void {
    this.wanted.add(sessionId);
    this.reconcile(sessionId);
  }

  unwant(sessionId: string): void {
    this.wanted.delete(sessionId);
    this.reconcile(sessionId);
  }

  /**
   * The connection is (again) ready and holds no session subscription (ioredis' own resubscribe
   * is off for it): subscribe every watched session anew. Commands in flight when the connection
   * dropped are resent by ioredis and settle their channel themselves.
   */
  connected(mode: PubSubMode): void {
    this.mode = mode;
    for (const [id, c] of this.channels) {
      c.subscribed = false;
      clearTimeout(c.retry);
      c.retry = undefined;
      if (!c.busy && !this.wanted.has(id)) this.channels.delete(id);
    }
    for (const id of this.wanted) this.reconcile(id);
  }

  stop(): void {
    this.stopped = true;
    for (const c of this.channels.values()) clearTimeout(c.retry);
  }

  private reconcile(sessionId: string): void {
    // Not connected: the next `connected` subscribes whatever is wanted then.
    if (this.stopped || !this.mode || this.sub.status !== 'ready') return;
    const want = this.wanted.has(sessionId);
    const c = this.channels.get(sessionId) ?? { subscribed: false, busy: false, retry: undefined };
    if (c.busy || c.retry) return;
    if (c.subscribed === want) {
      if (!want) this.channels.delete(sessionId);
      return;
    }
    c.busy = true;
    this.channels.set(sessionId, c);
    const name = sessionChannel(sessionId);
    const sharded = this.mode === 'sharded';
    const send = (): Promise<unknown> =>
      want
        ? sharded
          ? this.sub.ssubscribe(name)
          : this.sub.subscribe(name)
        : sharded
          ? this.sub.sunsubscribe(name)
          : this.sub.unsubscribe(name);
    const held = want ? this.beforeSubscribe() : undefined;
    const command = held ? held.then(send) : send();
    command.then(
      () => {
        c.busy = false;
        c.subscribed = want;
        if (want && this.wanted.has(sessionId) && !this.stopped) this.onLive(sessionId);
        this.reconcile(sessionId);
      },
      (err: Error) => {
        c.busy = false;
        this.failures += 1;
        this.logger.warn(
          { err: err.message, sessionId, subscribe: want },
          'session channel (un)subscribe failed; trying again',
        );
        if (this.stopped) return;
        c.retry = setTimeout(() => {
          c.retry = undefined;
          this.reconcile(sessionId);
        }, CHANNEL_RETRY_MS);
        c.retry.unref();
      },
    );
  }
}
