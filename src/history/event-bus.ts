import { Injectable, Logger } from '@nestjs/common';
import type { SessionEvent } from '../contracts/events.js';

/** `local`: committed by this process; `remote`: committed by another node, relayed over Redis. */
export type EventOrigin = 'local' | 'remote';
export type EventListener = (event: SessionEvent, origin: EventOrigin) => void;

/** Told when a session gains its first per-session listener here and when it loses its last. */
export interface SessionWatchHook {
  watched(sessionId: string): void;
  unwatched(sessionId: string): void;
}

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
  private hook: SessionWatchHook | undefined;

  /**
   * The cluster bus follows which sessions have listeners here, to receive other nodes' events of
   * exactly those: every per-session consumer (socket fan-out, SSE streams) counts, whoever it is.
   */
  setWatchHook(hook: SessionWatchHook | undefined): void {
    this.hook = hook;
    if (hook) for (const sessionId of this.bySession.keys()) hook.watched(sessionId);
  }

  subscribe(sessionId: string, listener: EventListener): () => void {
    let set = this.bySession.get(sessionId);
    if (!set) {
      set = new Set();
      this.bySession.set(sessionId, set);
      this.hook?.watched(sessionId);
    }
    set.add(listener);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const current = this.bySession.get(sessionId);
      if (!current) return;
      current.delete(listener);
      if (current.size === 0) {
        this.bySession.delete(sessionId);
        this.hook?.unwatched(sessionId);
      }
    };
  }

  subscribeAll(listener: EventListener): () => void {
    this.global.add(listener);
    return () => this.global.delete(listener);
  }

  /** Sessions with at least one per-session listener on this node. */
  get watchedSessions(): number {
    return this.bySession.size;
  }

  listenerCount(sessionId: string): number {
    return this.bySession.get(sessionId)?.size ?? 0;
  }

  publish(event: SessionEvent, origin: EventOrigin = 'local'): void {
    for (const l of this.global) this.deliver(l, event, origin);
    const set = this.bySession.get(event.sessionId);
    if (set) for (const l of [...set]) this.deliver(l, event, origin);
  }

  private deliver(listener: EventListener, event: SessionEvent, origin: EventOrigin): void {
    try {
      listener(event, origin);
    } catch (err) {
      this.logger.error(
        { err, sessionId: event.sessionId, seq: event.seq },
        'event listener failed',
      );
    }
  }
}
