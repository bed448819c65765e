import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { Redis } from 'ioredis';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';

/** Longest a command waits for Redis (rate-limit checks, readiness pings, publishes). */
const COMMAND_TIMEOUT_MS = 1000;

/**
 * The Redis connections of a multi-node deployment (REDIS_URL): one for commands and publishing,
 * one subscriber for the cluster bus, and a pub/sub pair for the Socket.IO adapter. Absent
 * (`enabled` false) on a single node. Connections retry forever in the background; readiness
 * reports Redis down meanwhile.
 */
@Injectable()
export class RedisConnections implements BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger(RedisConnections.name);
  readonly command: Redis | undefined;
  readonly subscriber: Redis | undefined;
  readonly adapterPub: Redis | undefined;
  readonly adapterSub: Redis | undefined;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    const url = config.redisUrl;
    if (!url) return;
    // Subscribers wait for Redis however long it is away (their subscriptions queue); a command
    // fails after COMMAND_TIMEOUT_MS or two reconnects, so callers get an error, not a hang.
    const make = (name: string, subscriber = false, autoResubscribe = true): Redis => {
      const client = new Redis(url, {
        connectionName: `hitl-${name}`,
        maxRetriesPerRequest: subscriber ? null : 2,
        autoResubscribe,
        ...(subscriber ? {} : { commandTimeout: COMMAND_TIMEOUT_MS }),
        retryStrategy: (times) => Math.min(times * 200, 2000),
      });
      client.on('error', (err: Error) =>
        this.logger.warn({ err: err.message, client: name }, 'redis connection error'),
      );
      return client;
    };
    this.command = make('command');
    // The cluster bus subscribes again itself, to only the sessions watched by then.
    this.subscriber = make('bus', true, false);
    this.adapterPub = make('adapter-pub', true);
    this.adapterSub = make('adapter-sub', true);
  }

  get enabled(): boolean {
    return this.command !== undefined;
  }

  /** Fails at once while the command connection is not connected, instead of queueing. */
  async ping(): Promise<void> {
    if (!this.command) return;
    if (this.command.status !== 'ready') throw new Error(`redis is ${this.command.status}`);
    await this.command.ping();
  }

  /**
   * Before the socket server closes: connections that never reached Redis are dropped now, or the
   * adapter's unsubscribe on close would wait for them forever.
   */
  beforeApplicationShutdown(): void {
    for (const c of this.all()) if (c.status !== 'ready') c.disconnect();
  }

  private all(): Redis[] {
    return [this.command, this.subscriber, this.adapterPub, this.adapterSub].filter(
      (c): c is Redis => c !== undefined,
    );
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all(
      this.all().map(async (c) => {
        // QUIT would wait for a connection that may never come back; drop those at once.
        if (c.status === 'ready') await c.quit().catch(() => c.disconnect());
        else c.disconnect();
      }),
    );
  }
}
