import {
  Inject,
  Injectable,
  Logger,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import type { SessionEvent } from '../contracts/events.js';
import { EventBus } from '../history/event-bus.js';
import { RedisConnections } from './redis-connections.js';

const CHANNEL = 'hitl:cluster';

export type ClusterMessage =
  | { kind: 'event'; event: SessionEvent }
  | { kind: 'answer'; interactionId: string; outcome: string; response?: unknown }
  | { kind: 'cancel'; requestId: string; sessionId: string; reason: string }
  | { kind: 'cancelled'; requestId: string; runId: string; won: boolean };

type Handler = (m: ClusterMessage) => void;

/**
 * Node-to-node messages over Redis pub/sub (no-op on a single node). Committed events are shared
 * so that every node's sockets and SSE streams see every event (each node puts them in seq order
 * itself); answers and cancels travel to the node that runs the run.
 */
@Injectable()
export class ClusterBus implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(ClusterBus.name);
  readonly nodeTag = Math.random().toString(36).slice(2);
  private readonly handlers = new Set<Handler>();
  private readonly resubscribed = new Set<() => void>();
  private unsubscribeLocal: (() => void) | undefined;

  constructor(
    @Inject(RedisConnections) private readonly redis: RedisConnections,
    @Inject(EventBus) private readonly bus: EventBus,
  ) {}

  get enabled(): boolean {
    return this.redis.enabled;
  }

  onModuleInit(): void {
    const sub = this.redis.subscriber;
    if (!sub) return;
    sub.on('message', (_channel: string, raw: string) => this.receive(raw));
    // After a lost connection the subscription is back once SUBSCRIBE answers; whatever was
    // published in between is gone, and the holders of ordered streams must read it from the log.
    sub.on('ready', () => {
      sub
        .subscribe(CHANNEL)
        .then(() => this.notifyResubscribed())
        .catch((err: Error) =>
          this.logger.warn({ err: err.message }, 'cluster resubscribe failed'),
        );
    });
    // Not awaited: with Redis away the subscription waits for it, and start-up must not.
    sub.subscribe(CHANNEL).catch((err: Error) => {
      this.logger.warn({ err: err.message }, 'cluster subscribe failed');
    });
    this.unsubscribeLocal = this.bus.subscribeAll((event, origin) => {
      if (origin === 'local') this.publish({ kind: 'event', event });
    });
  }

  onModuleDestroy(): void {
    this.unsubscribeLocal?.();
  }

  on(handler: Handler): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  /** `handler` runs each time the subscription is (re)established; returns the unsubscribe. */
  onResubscribed(handler: () => void): () => void {
    this.resubscribed.add(handler);
    return () => this.resubscribed.delete(handler);
  }

  private notifyResubscribed(): void {
    for (const h of this.resubscribed) {
      try {
        h();
      } catch (err) {
        this.logger.error({ err }, 'cluster resubscribe handler failed');
      }
    }
  }

  publish(message: ClusterMessage): void {
    const cmd = this.redis.command;
    if (!cmd) return;
    cmd.publish(CHANNEL, JSON.stringify({ from: this.nodeTag, message })).catch((err: Error) => {
      this.logger.warn({ err: err.message, kind: message.kind }, 'cluster publish failed');
    });
  }

  private receive(raw: string): void {
    let parsed: { from: string; message: ClusterMessage };
    try {
      parsed = JSON.parse(raw) as { from: string; message: ClusterMessage };
    } catch {
      return;
    }
    if (parsed.from === this.nodeTag) return;
    const m = parsed.message;
    if (m.kind === 'event') this.bus.publish(m.event, 'remote');
    for (const h of this.handlers) {
      try {
        h(m);
      } catch (err) {
        this.logger.error({ err }, 'cluster message handler failed');
      }
    }
  }
}
