import {
  type BeforeApplicationShutdown,
  Inject,
  Logger,
  type OnApplicationShutdown,
} from '@nestjs/common';
import {
  type OnGatewayConnection,
  type OnGatewayDisconnect,
  type OnGatewayInit,
  WebSocketGateway,
} from '@nestjs/websockets';
import type { Subscription } from 'rxjs';
import type { Namespace } from 'socket.io';
import { AnswerInteractionUseCase } from '../agent/usecases/answer-interaction.usecase.js';
import { CancelRunUseCase } from '../agent/usecases/cancel-run.usecase.js';
import { LiveRuns } from '../runs/live-runs.js';
import { ResumeIntentUseCase } from '../agent/usecases/resume-intent.usecase.js';
import { SendMessageUseCase } from '../agent/usecases/send-message.usecase.js';
import { AuthThrottleService } from '../auth/auth-throttle.service.js';
import { TokenService } from '../auth/token.service.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { DomainError } from '../common/domain-error.js';
import {
  CHAT_NAMESPACE,
  CLIENT_EVENTS,
  type ClientEventName,
  type ClientToServerEvents,
  type InterServerEvents,
  type ServerToClientEvents,
  type SocketData,
} from '../contracts/socket.js';
import { MetricsService } from '../observability/metrics.service.js';
import { SessionsService } from '../sessions/sessions.service.js';
import { CreateSessionUseCase } from '../sessions/usecases/create-session.usecase.js';
import { UsersService } from '../users/users.service.js';
import { AuthExpiry } from './auth-expiry.js';
import { RoomNames, sessionRoom, userRoom } from './room-names.js';
import { SlowConsumerGuard } from './slow-consumer-guard.js';
import { handshakeMiddleware } from './socket-auth.js';
import { failure } from './socket-errors.js';
import { type ChatSocket, dispatch, type HandlerTable } from './socket-handlers.js';
import { SessionFanoutService } from './session-fanout.service.js';
import { SocketMemberships } from './socket-memberships.js';
import { FaultPoints } from '../common/fault-points.js';

type ChatNamespace = Namespace<
  ClientToServerEvents,
  ServerToClientEvents,
  InterServerEvents,
  SocketData
>;

const SHUTDOWN_FLUSH_MS = 150;

/**
 * The /chat namespace. Thin: authentication is the handshake middleware; each client event is
 * validated against its payload class and handed to one service call; every event gets exactly
 * one ack (or an `error` event when it came without one). Committed log events reach the
 * sockets of this node in seq order from the SessionFanoutService.
 */
@WebSocketGateway({ namespace: CHAT_NAMESPACE })
export class ChatGateway
  implements
    OnGatewayInit,
    OnGatewayConnection,
    OnGatewayDisconnect,
    BeforeApplicationShutdown,
    OnApplicationShutdown
{
  private readonly logger = new Logger(ChatGateway.name);
  private ns: ChatNamespace | undefined;
  private readonly handlers: HandlerTable;
  private readonly memberships: SocketMemberships;
  private slowConsumers: SlowConsumerGuard | undefined;
  private userChanges: Subscription | undefined;
  private expiry: AuthExpiry | undefined;
  private readonly rooms = new RoomNames();
  /**
   * One listener for every socket: Socket.IO calls onAny listeners with the socket as `this`, so
   * no closure is made per connection.
   */
  private readonly onClientEvent = ((
    dispatch: (socket: ChatSocket, event: string, args: unknown[]) => Promise<void>,
  ) =>
    function (this: ChatSocket, event: string, ...args: unknown[]): void {
      void dispatch(this, event, args);
    })((socket, event, args) => this.dispatch(socket, event, args));

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(TokenService) private readonly tokens: TokenService,
    @Inject(AuthThrottleService) private readonly authThrottle: AuthThrottleService,
    @Inject(UsersService) private readonly users: UsersService,
    @Inject(SessionsService) sessions: SessionsService,
    @Inject(SessionFanoutService) private readonly fanout: SessionFanoutService,
    @Inject(MetricsService) private readonly metrics: MetricsService,
    @Inject(CreateSessionUseCase) create: CreateSessionUseCase,
    @Inject(SendMessageUseCase) send: SendMessageUseCase,
    @Inject(AnswerInteractionUseCase) answer: AnswerInteractionUseCase,
    @Inject(CancelRunUseCase) cancel: CancelRunUseCase,
    @Inject(ResumeIntentUseCase) resume: ResumeIntentUseCase,
    @Inject(LiveRuns) private readonly liveRuns: LiveRuns,
    @Inject(FaultPoints) faults: FaultPoints,
  ) {
    this.memberships = new SocketMemberships(
      sessions,
      fanout,
      this.rooms,
      metrics,
      faults,
      config.limits.maxJoinedSessionsPerSocket,
    );
    this.handlers = {
      'session:create': {
        run: async (s, p) => ({
          session: await create.execute(s.data.userId, p.title?.trim()),
        }),
      },
      'session:join': {
        run: (s, p) => this.memberships.join(s, p.sessionId, p.afterSeq ?? 0),
      },
      'session:leave': {
        run: (s, p) => this.memberships.leave(s, p.sessionId),
      },
      'message:send': {
        run: (s, p) =>
          send.execute({ ...p, userId: s.data.userId, connectionId: s.data.connectionId }),
      },
      'interaction:respond': {
        run: async (s, p) => {
          await answer.execute({ ...p, userId: s.data.userId, connectionId: s.data.connectionId });
          return {};
        },
      },
      'run:cancel': {
        run: (s, p) => cancel.execute({ userId: s.data.userId, sessionId: p.sessionId }),
      },
      'intent:resume': {
        run: async (s, p) => ({
          runId: await resume.execute({
            ...p,
            userId: s.data.userId,
            connectionId: s.data.connectionId,
          }),
        }),
      },
    };
  }

  get connectedCount(): number {
    return this.memberships.size;
  }

  /** What this node holds for a room: its sockets in it, and whether its name is kept. */
  localRoom(room: string): { members: number; nameKept: boolean } {
    return { members: this.ns?.adapter.rooms.get(room)?.size ?? 0, nameKept: this.rooms.has(room) };
  }

  afterInit(ns: ChatNamespace): void {
    this.ns = ns;
    ns.use(
      handshakeMiddleware({
        tokens: this.tokens,
        users: this.users,
        throttle: this.authThrottle,
        corsOrigins: this.config.http.corsOrigins,
      }),
    );
    // `local`: each node emits every event (its own and relayed ones) to its own sockets, in seq
    // order; the adapter must not carry them again.
    this.fanout.bind((sessionId, event) => {
      ns.local.to(sessionRoom(sessionId)).emit('session:event', event);
      this.metrics.eventsEmitted.inc({ type: event.type });
    });
    this.slowConsumers = new SlowConsumerGuard(
      this.config.limits.socketMaxBufferBytes,
      this.metrics,
    );
    this.slowConsumers.start(ns);
    this.userChanges = this.users.changes$.subscribe(({ user, disabledNow }) => {
      if (disabledNow) ns.in(userRoom(user.id)).disconnectSockets();
    });
    this.rooms.bind(ns.adapter);
    this.expiry = new AuthExpiry(
      () => ns.sockets.values(),
      (socket) => {
        socket.emit('auth_expired', {
          message: 'The access token expired; reconnect with a fresh one',
        });
        socket.disconnect();
      },
    );
  }

  handleConnection(socket: ChatSocket): void {
    const { userId, connectionId } = socket.data;
    void socket.join(this.rooms.of(userRoom(userId)));
    this.memberships.connected(socket);
    this.expiry?.track(socket);
    socket.onAny(this.onClientEvent);
    this.metrics.connectedSockets.inc();
    this.logger.debug({ userId, connectionId }, 'socket connected');
  }

  handleDisconnect(socket: ChatSocket): void {
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
    this.userChanges?.unsubscribe();
    this.expiry?.stop();
  }

  private async dispatch(socket: ChatSocket, event: string, args: unknown[]): Promise<void> {
    const last = args[args.length - 1];
    const ack = typeof last === 'function' ? (last as (r: unknown) => void) : undefined;
    const payload = ack ? args.slice(0, -1)[0] : args[0];
    const context = { userId: socket.data.userId, connectionId: socket.data.connectionId, event };
    if (!ack) {
      socket.emit('error', {
        code: 'VALIDATION_FAILED',
        message: CLIENT_EVENTS.includes(event as ClientEventName)
          ? 'Every event needs an acknowledgement callback; nothing was done'
          : `Unknown event ${event}`,
        event,
      });
      return;
    }
    let answered = false;
    const reply = (r: unknown): void => {
      if (answered) return;
      answered = true;
      ack(r);
    };
    try {
      if (!CLIENT_EVENTS.includes(event as ClientEventName)) {
        throw DomainError.validation(`Unknown event ${event}`, [
          { field: '(event)', problems: [`known events: ${CLIENT_EVENTS.join(', ')}`] },
        ]);
      }
      const name = event as ClientEventName;
      const result = await dispatch(this.handlers, name, socket, payload);
      reply({ ok: true, ...result });
    } catch (err) {
      reply(failure(err, context));
    }
  }
}
