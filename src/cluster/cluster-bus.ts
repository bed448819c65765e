import {
  Inject,
  Injectable,
  Logger,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import type { Redis } from 'ioredis';
import { FaultPoints } from '../common/fault-points.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import type { SessionEvent } from '../contracts/events.js';
import { EventBus } from '../history/event-bus.js';
import { RedisConnections } from './redis-connections.js';
import {
  type PubSubMode,
  SESSION_CHANNEL_PREFIX,
  SessionChannels,
  sessionChannel,
} from './session-channels.js';

/**
 * The shared channel: answers, cancels and closes (rare, and every node may be the one they are
 * for).
 */
const CHANNEL = 'hitl:cluster';

export type ClusterMessage =
  /** `traceparent`: the answer's span (when traced), so the node of the run joins its trace. */
  | {
      kind: 'answer';
      interactionId: string;
      outcome: string;
      response?: unknown;
      traceparent?: string;
    }
  /** Only the node executing `runId` acts on it (absent from nodes that predate it: any does). */
  | { kind: 'cancel'; requestId: string; sessionId: string; reason: string; runId?: string }
  /** The executing node's reply: whether its cancel of `runId` is what ended that run. */
  | { kind: 'cancelled'; requestId: string; runId: string; won: boolean }
  /**
   * A node that executes another run of the session (`executing`) than the `runId` a cancel asked
   * about: the canceller reads the session's active run again instead of waiting for a reply.
   */
  | { kind: 'not-executing'; requestId: string; runId: string; executing: string }
  /** The session was closed: whatever of it executes on a node stops without writing. */
  | { kind: 'abandon'; sessionId: string; runId?: string };

type Handler = (m: ClusterMessage) => void;

/** Local events held for relay before Redis has been reached once; beyond, they are dropped. */
export const MAX_WAITING_FOR_MODE = 10_000;

/** What this node's bus connection has received, for tests and metrics. */
export interface ClusterBusStats {
  /** Messages that arrived on session channels, this node's own echoes included. */
  sessionMessages: number;
  /** Of those, events committed by another node (handed to the local EventBus). */
  remoteEvents: number;
  /** Session channels subscribed now. */
  sessionChannels: number;
  /** Session channels with a (un)subscribe in flight or waiting to be tried again. */
  pendingChannels: number;
  /** Session channel (un)subscribes that failed (each is tried again). */
  channelFailures: number;
  /** Local events waiting to be relayed until Redis is first reached (at most MAX_WAITING_FOR_MODE). */
  waitingForMode: number;
  /** Local events not relayed because too many were waiting for Redis to be reached. */
  droppedBeforeMode: number;
}

/**
 * Node-to-node messages over Redis pub/sub (no-op on a single node). A committed event is
 * published once on its session's channel, and a node is subscribed to that channel only while
 * it has watchers of the session (the EventBus tells which), so each node receives the events of
 * the sessions it serves and no others. Answers and cancels travel on one shared channel.
 * Pub/sub may lose messages (a subscription not yet confirmed, a connection that dropped); the
 * holders of ordered streams read what they missed from the log when `onSessionLive` fires.
 */
@Injectable()
export class ClusterBus implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(ClusterBus.name);
  readonly nodeTag = Math.random().toString(36).slice(2);
  private readonly echoPrefix = `${this.nodeTag} `;
  private readonly handlers = new Set<Handler>();
  private readonly live = new Map<string, Set<() => void>>();
  private channels: SessionChannels | undefined;
  private mode: PubSubMode | undefined;
  private unsubscribeLocal: (() => void) | undefined;
  private sessionMessages = 0;
  private remoteEvents = 0;
  private stopped = false;
  /** Counts the subscriber's connections: a retry left from an earlier one gives up. */
  private connection = 0;
  private sharedRetry: NodeJS.Timeout | undefined;
  /** Local events waiting for the pub/sub mode, in commit order (bounded: see publishEvent). */
  private readonly beforeMode: SessionEvent[] = [];
  private droppedBeforeMode = 0;

  constructor(
    @Inject(RedisConnections) private readonly redis: RedisConnections,
    @Inject(EventBus) private readonly bus: EventBus,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(FaultPoints) private readonly faults: FaultPoints,
  ) {}

  get enabled(): boolean {
    return this.redis.enabled;
  }

  /** How session channels are carried; undefined until Redis has been reached once. */
  get pubSubMode(): PubSubMode | undefined {
    return this.mode;
  }

  get stats(): ClusterBusStats {
    return {
      sessionMessages: this.sessionMessages,
      remoteEvents: this.remoteEvents,
      sessionChannels: this.channels?.subscribedCount ?? 0,
      pendingChannels: this.channels?.pendingCount ?? 0,
      channelFailures: this.channels?.failures ?? 0,
      waitingForMode: this.beforeMode.length,
      droppedBeforeMode: this.droppedBeforeMode,
    };
  }

  onModuleInit(): void {
    const sub = this.redis.subscriber;
    if (!sub) return;
    const channels = new SessionChannels(
      sub,
      (id) => this.notifyLive(id),
      this.logger,
      () => this.faults.hit('cluster.subscribe'),
    );
    this.channels = channels;
    sub.on('message', (channel: string, raw: string) => this.receive(channel, raw));
    sub.on('smessage', (channel: string, raw: string) => this.receive(channel, raw));
    // Every (re)connection starts without subscriptions: whatever was published meanwhile is
    // gone, and each watched session's channel is subscribed again (then read from the log).
    sub.on('ready', () => void this.connected(sub, channels));
    // The connection may have become ready before this module's init.
    if (sub.status === 'ready') void this.connected(sub, channels);
    this.bus.setWatchHook({
      watched: (id) => channels.want(id),
      unwatched: (id) => channels.unwant(id),
    });
    this.unsubscribeLocal = this.bus.subscribeAll((event, origin) => {
      if (origin === 'local') this.publishEvent(event);
    });
  }

  onModuleDestroy(): void {
    this.stopped = true;
    clearTimeout(this.sharedRetry);
    this.beforeMode.length = 0;
    this.unsubscribeLocal?.();
    this.bus.setWatchHook(undefined);
    this.channels?.stop();
  }

  on(handler: Handler): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  /**
   * `handler` runs each time this node's subscription to the session's channel is confirmed (the
   * first watcher's, and again after Redis came back): events published before may be missing.
   */
  onSessionLive(sessionId: string, handler: () => void): () => void {
    let set = this.live.get(sessionId);
    if (!set) {
      set = new Set();
      this.live.set(sessionId, set);
    }
    set.add(handler);
    return () => {
      const current = this.live.get(sessionId);
      current?.delete(handler);
      if (current?.size === 0) this.live.delete(sessionId);
    };
  }

  publish(message: ClusterMessage): void {
    const cmd = this.redis.command;
    if (!cmd) return;
    cmd.publish(CHANNEL, JSON.stringify({ from: this.nodeTag, message })).catch((err: Error) => {
      this.logger.warn({ err: err.message, kind: message.kind }, 'cluster publish failed');
    });
  }

  private async connected(sub: Redis, channels: SessionChannels): Promise<void> {
    if (!this.mode) {
      await this.faults.hit('cluster.mode');
      const mode = await this.detectMode(sub);
      this.mode ??= mode;
      // In order, before any later event can take the direct path.
      for (const event of this.beforeMode.splice(0)) this.sendEvent(event, this.mode);
    }
    if (sub.status !== 'ready' || this.stopped) return;
    this.connection += 1;
    clearTimeout(this.sharedRetry);
    this.subscribeShared(sub, 0, this.connection);
    // Redis counts shard channels apart from plain ones: had the last session channel's
    // SUNSUBSCRIBE answered 0, ioredis would leave subscriber mode although `hitl:cluster` is
    // still subscribed. A shard channel of the node's own, never unsubscribed, keeps it above 0.
    if (this.mode === 'sharded')
      sub.ssubscribe(`hitl:n:{${this.nodeTag}}`).catch((err: Error) => {
        this.logger.warn({ err: err.message }, 'cluster anchor subscribe failed');
      });
    channels.connected(this.mode);
  }

  /**
   * Answers and cancels for this node come only through this subscription: a failed SUBSCRIBE is
   * tried again (growing wait) while the connection is up; a new connection starts over anyway.
   */
  private subscribeShared(sub: Redis, failures: number, connection: number): void {
    const current = (): boolean =>
      connection === this.connection && sub.status === 'ready' && !this.stopped;
    Promise.resolve()
      .then(() => this.faults.hit('cluster.shared-subscribe'))
      .then(() => sub.subscribe(CHANNEL))
      .catch((err: Error) => {
        this.logger.warn({ err: err.message, failures }, 'cluster subscribe failed');
        if (!current()) return;
        const wait = Math.min(200 * 2 ** failures, 5_000);
        clearTimeout(this.sharedRetry);
        this.sharedRetry = setTimeout(() => {
          this.sharedRetry = undefined;
          if (current()) this.subscribeShared(sub, failures + 1, connection);
        }, wait);
        this.sharedRetry.unref();
      });
  }

  /** Sharded pub/sub where the server has it (Redis 7+) unless turned off; else plain pub/sub. */
  private async detectMode(sub: Redis): Promise<PubSubMode> {
    if (!this.config.shardedPubSub) return 'classic';
    try {
      // On a fresh connection (no subscription yet), so ordinary commands are still allowed.
      const info = (await sub.call('COMMAND', 'INFO', 'SPUBLISH')) as unknown[];
      const mode: PubSubMode = Array.isArray(info) && info[0] ? 'sharded' : 'classic';
      this.logger.log({ mode }, 'cluster pub/sub mode');
      return mode;
    } catch (err) {
      this.logger.warn(
        { err: (err as Error).message },
        'cannot tell whether Redis has sharded pub/sub; using plain pub/sub',
      );
      return 'classic';
    }
  }

  private publishEvent(event: SessionEvent): void {
    if (!this.redis.command) return;
    if (this.mode) this.sendEvent(event, this.mode);
    else if (this.beforeMode.length < MAX_WAITING_FOR_MODE) {
      // Until Redis has been reached once it is not known which PUBLISH the other nodes listen to.
      this.beforeMode.push(event);
    } else {
      // Like a message pub/sub lost: other nodes read it from the log when the session's next
      // event shows the gap. Holding every event of a node that never reaches Redis is worse.
      this.droppedBeforeMode += 1;
      if (this.droppedBeforeMode % 1000 === 1)
        this.logger.warn(
          { dropped: this.droppedBeforeMode, sessionId: event.sessionId },
          'Redis not reached yet: events not relayed to other nodes',
        );
    }
  }

  private sendEvent(event: SessionEvent, mode: PubSubMode): void {
    const cmd = this.redis.command;
    if (!cmd) return;
    // The tag first: a node that watches the session gets its own events back and drops them
    // without parsing.
    const payload = this.echoPrefix + JSON.stringify(event);
    const channel = sessionChannel(event.sessionId);
    const sent =
      mode === 'sharded' ? cmd.spublish(channel, payload) : cmd.publish(channel, payload);
    sent.catch((err: Error) =>
      this.logger.warn(
        { err: err.message, sessionId: event.sessionId, seq: event.seq },
        'cluster publish failed',
      ),
    );
  }

  private receive(channel: string, raw: string): void {
    if (channel.startsWith(SESSION_CHANNEL_PREFIX)) {
      this.sessionMessages += 1;
      if (raw.startsWith(this.echoPrefix)) return;
      const space = raw.indexOf(' ');
      let event: SessionEvent;
      try {
        event = JSON.parse(raw.slice(space + 1)) as SessionEvent;
      } catch {
        return;
      }
      this.remoteEvents += 1;
      this.bus.publish(event, 'remote');
      return;
    }
    if (channel !== CHANNEL) return;
    let parsed: { from: string; message: ClusterMessage };
    try {
      parsed = JSON.parse(raw) as { from: string; message: ClusterMessage };
    } catch {
      return;
    }
    if (parsed.from === this.nodeTag) return;
    for (const h of this.handlers) {
      try {
        h(parsed.message);
      } catch (err) {
        this.logger.error({ err }, 'cluster message handler failed');
      }
    }
  }

  private notifyLive(sessionId: string): void {
    const set = this.live.get(sessionId);
    if (!set) return;
    for (const h of [...set]) {
      try {
        h();
      } catch (err) {
        this.logger.error({ err, sessionId }, 'session channel handler failed');
      }
    }
  }
}
