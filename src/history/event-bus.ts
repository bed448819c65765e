import { Injectable, Logger } from '@nestjs/common';
import type { SessionEvent } from '../contracts/events.js';

export type EventListener = (event: SessionEvent) => void;

/**
 * In-process fan-out of committed events. The history service is its only publisher, and only
 * after the event's transaction committed. Per-session listeners (SSE streams) and global ones
 * (the socket gateway) are kept separately; a session's listener set is deleted when it empties,
 * so sessions nobody watches cost nothing here.
 */
@Injectable()
export class EventBus {
  private readonly logger = new Logger(EventBus.name);
  private readonly bySession = new Map<string, Set<EventListener>>();
  private readonly global = new Set<EventListener>();

  subscribe(sessionId: string, listener: EventListener): () => void {
    let set = this.bySession.get(sessionId);
    if (!set) {
      set = new Set();
      this.bySession.set(sessionId, set);
    }
    set.add(listener);
    return () => {
      const current = this.bySession.get(sessionId);
      if (!current) return;
      current.delete(listener);
      if (current.size === 0) this.bySession.delete(sessionId);
    };
  }

  subscribeAll(listener: EventListener): () => void {
    this.global.add(listener);
    return () => this.global.delete(listener);
  }

  listenerCount(sessionId: string): number {
    return this.bySession.get(sessionId)?.size ?? 0;
  }

  get watchedSessions(): number {
    return this.bySession.size;
  }

  publish(event: SessionEvent): void {
    for (const l of this.global) this.deliver(l, event);
    const set = this.bySession.get(event.sessionId);
    if (set) for (const l of [...set]) this.deliver(l, event);
  }

  private deliver(listener: EventListener, event: SessionEvent): void {
    try {
      listener(event);
    } catch (err) {
      this.logger.error(
        { err, sessionId: event.sessionId, seq: event.seq },
        'event listener failed',
      );
    }
  }
}
