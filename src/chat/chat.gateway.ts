import { Inject } from '@nestjs/common';
import {
  type OnGatewayConnection,
  type OnGatewayDisconnect,
  type OnGatewayInit,
  WebSocketGateway,
} from '@nestjs/websockets';
import { SpanStatusCode, trace } from '@opentelemetry/api';
import { DomainError } from '../common/domain-error.js';
import { CHAT_NAMESPACE, CLIENT_EVENTS, type ClientEventName } from '../contracts/socket.js';
import { ChatConnections } from './chat-connections.js';
import { RunCommands } from './run-commands.js';
import { SessionCommands } from './session-commands.js';
import { SteeringCommands } from './steering-commands.js';
import { inSpan, SpanKind } from '../observability/tracing.js';
import { failure } from './socket-errors.js';
import {
  type ChatNamespace,
  type ChatSocket,
  dispatch,
  type HandlerTable,
} from './socket-handlers.js';

/**
 * The /chat namespace, transport only. The connection lifecycle (authentication, memberships,
 * fan-out, guards, shutdown) is ChatConnections'; the commands are SessionCommands',
 * RunCommands' and SteeringCommands'. Here each client event is decoded, validated against its payload class, handed
 * to its command, and gets exactly one ack (or an `error` event when it came without one).
 */
@WebSocketGateway({ namespace: CHAT_NAMESPACE })
export class ChatGateway implements OnGatewayInit, OnGatewayConnection, OnGatewayDisconnect {
  private readonly handlers: HandlerTable;
  /**
   * One listener for every socket: Socket.IO calls onAny listeners with the socket as `this`, so
   * no closure is made per connection.
   */
  private readonly onClientEvent = ((
    dispatch: (socket: ChatSocket, event: string, args: unknown[]) => Promise<void>,
  ) =>
    function (this: ChatSocket, event: string, ...args: unknown[]): void {
      void dispatch(this, event, args);
    })((socket, event, args) => this.traced(socket, event, args));

  constructor(
    @Inject(ChatConnections) private readonly connections: ChatConnections,
    @Inject(SessionCommands) sessionCommands: SessionCommands,
    @Inject(RunCommands) runCommands: RunCommands,
    @Inject(SteeringCommands) steeringCommands: SteeringCommands,
  ) {
    // Typed as the whole table: a client event left without a command does not build.
    this.handlers = {
      ...sessionCommands.handlers,
      ...runCommands.handlers,
      ...steeringCommands.handlers,
    };
  }

  get connectedCount(): number {
    return this.connections.connectedCount;
  }

  /** What this node holds for a room: its sockets in it, and whether its name is kept. */
  localRoom(room: string): { members: number; nameKept: boolean } {
    return this.connections.localRoom(room);
  }

  afterInit(ns: ChatNamespace): void {
    this.connections.attach(ns);
  }

  handleConnection(socket: ChatSocket): void {
    this.connections.connected(socket);
    socket.onAny(this.onClientEvent);
  }

  handleDisconnect(socket: ChatSocket): void {
    this.connections.disconnected(socket);
  }

  /** One span per command: what it does (a run it starts, say) is inside it. */
  private traced(socket: ChatSocket, event: string, args: unknown[]): Promise<void> {
    const known = CLIENT_EVENTS.includes(event as ClientEventName);
    const sessionId = (args[0] as { sessionId?: unknown } | undefined)?.sessionId;
    const attributes = {
      'socket.io.event': event,
      'user.id': socket.data.userId,
      ...(typeof sessionId === 'string' ? { 'session.id': sessionId } : {}),
    };
    const name = `socket ${known ? event : '(unknown)'}`;
    return inSpan(name, { kind: SpanKind.SERVER, attributes }, () =>
      this.dispatch(socket, event, args),
    );
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
      const r = failure(err, context);
      // The command's span (traced above) says how it was refused.
      trace.getActiveSpan()?.setAttribute('error.type', r.error.code);
      trace.getActiveSpan()?.setStatus({ code: SpanStatusCode.ERROR, message: r.error.message });
      reply(r);
    }
  }
}
