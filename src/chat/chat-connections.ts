import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { LiveRuns } from '../runs/live-runs.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { MetricsService } from '../observability/metrics.service.js';
import { InboxFanout } from './inbox-fanout.js';
import { sessionRoom } from './room-names.js';
import { SessionFanoutService } from './session-fanout.service.js';
import { SessionsFanout } from './sessions-fanout.js';
import { SlowConsumerGuard } from './slow-consumer-guard.js';
import { SocketAuthentication } from './socket-authentication.js';
import type { ChatNamespace, ChatSocket } from './socket-handlers.js';
import { SocketMemberships } from './socket-memberships.js';

const SHUTDOWN_FLUSH_MS = 150;

/**
 * The life of the /chat connections on this node, from the handshake to the shutdown:
 * authentication (SocketAuthentication), room memberships (SocketMemberships), committed session
 * events out to the sockets of each session's room, `inbox` events and session list changes
 * (`sessions`) to each user's room, the slow consumer guard, and the connected count. The gateway
 * hands it the namespace and each connect and disconnect; it handles no client event.
 */
@Injectable()
export class ChatConnections implements BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger(ChatConnections.name);
  private ns: ChatNamespace | undefined;
  private slowConsumers: SlowConsumerGuard | undefined;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(SocketAuthentication) private readonly auth: SocketAuthentication,
    @Inject(SocketMemberships) private readonly memberships: SocketMemberships,
    @Inject(SessionFanoutService) private readonly fanout: SessionFanoutService,
    @Inject(MetricsService) private readonly metrics: MetricsService,
    @Inject(LiveRuns) private readonly liveRuns: LiveRuns,
    @Inject(InboxFanout) private readonly inbox: InboxFanout,
    @Inject(SessionsFanout) private readonly sessionLists: SessionsFanout,
  ) {}

  get connectedCount(): number {
    return this.memberships.size;
  }

  /** What this node holds for a room: its sockets in it, and whether its name is kept. */
  localRoom(room: string): { members: number; nameKept: boolean } {
    return {
      members: this.ns?.adapter.rooms.get(room)?.size ?? 0,
      nameKept: this.memberships.nameKept(room),
    };
  }

  /** The namespace was created: authentication, fan-out and the guards start on it. */
  attach(ns: ChatNamespace): void {
    this.ns = ns;
    this.auth.attach(ns);
    // `local`: each node emits every event (its own and relayed ones) to its own sockets, in seq
    // order; the adapter must not carry them again.
    this.fanout.bind((sessionId, event) => {
      ns.local.to(sessionRoom(sessionId)).emit('session:event', event);
      this.metrics.eventsEmitted.inc({ type: event.type });
    });
    this.inbox.attach(ns);
    this.sessionLists.attach(ns);
    this.slowConsumers = new SlowConsumerGuard(
      this.config.limits.socketMaxBufferBytes,
      this.metrics,
    );
    this.slowConsumers.start(ns);
    this.memberships.bind(ns.adapter);
  }

  /** An authenticated socket connected (the handshake set its `data`). */
  connected(socket: ChatSocket): void {
    const { userId, connectionId } = socket.data;
    this.memberships.connected(socket);
    this.auth.connected(socket);
    this.metrics.connectedSockets.inc();
    this.logger.debug({ userId, connectionId }, 'socket connected');
  }

  disconnected(socket: ChatSocket): void {
    if (this.memberships.disconnected(socket)) this.metrics.connectedSockets.dec();
  }

  /** Shutdown: runs end first (so their closing events go out live), then every socket is told. */
  async beforeApplicationShutdown(): Promise<void> {
    await this.liveRuns.beforeApplicationShutdown();
    // `local`: through the Redis adapter a plain disconnectSockets reaches every node's sockets.
    this.ns?.local.disconnectSockets();
    // The server's own close drops unsent packets; give the last events and the disconnect
    // packets a moment to leave.
    await new Promise((r) => setTimeout(r, SHUTDOWN_FLUSH_MS));
  }

  // Not onModuleDestroy: that runs before the shutdown hooks, and the runs ended there must still
  // reach the sockets.
  onApplicationShutdown(): void {
    this.slowConsumers?.stop();
    this.auth.stop();
  }
}
