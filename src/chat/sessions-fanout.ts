import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { SessionNotifier } from '../sessions/session-notifier.js';
import { userRoom } from './room-names.js';
import type { ChatNamespace } from './socket-handlers.js';

/**
 * The `sessions` socket event: each session list change this node committed (SessionNotifier)
 * goes to the room of the session's owner, which each of their sockets joins on connect, so every
 * tab's list stays current. Through the adapter: with Redis, every node's sockets in that room get
 * it; a change is published only on the node that made it, so it is sent once.
 */
@Injectable()
export class SessionsFanout implements OnModuleDestroy {
  private unsubscribe: (() => void) | undefined;

  constructor(@Inject(SessionNotifier) private readonly notifier: SessionNotifier) {}

  attach(ns: ChatNamespace): void {
    this.unsubscribe?.();
    this.unsubscribe = this.notifier.subscribe(({ userId, action, session }) => {
      ns.to(userRoom(userId)).emit('sessions', { action, session });
    });
  }

  onModuleDestroy(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }
}
