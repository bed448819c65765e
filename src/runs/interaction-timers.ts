import { Injectable } from '@nestjs/common';

/**
 * One timer per open interaction of this process, firing at its expires_at. The interaction
 * sweeper covers what timers cannot (interactions from before a restart).
 */
@Injectable()
export class InteractionTimers {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private onExpire: ((interactionId: string) => Promise<void>) | undefined;
  private closed = false;

  setHandler(handler: (interactionId: string) => Promise<void>): void {
    this.onExpire = handler;
  }

  schedule(interactionId: string, expiresAt: Date): void {
    this.clear(interactionId);
    // A transaction committing during the shutdown (a takeover offering a retry) schedules
    // nothing: the timer would fire after the database closed.
    if (this.closed) return;
    const timer = setTimeout(
      () => {
        this.timers.delete(interactionId);
        void this.onExpire?.(interactionId);
      },
      Math.max(0, expiresAt.getTime() - Date.now()),
    );
    timer.unref();
    this.timers.set(interactionId, timer);
  }

  clear(interactionId: string): void {
    const t = this.timers.get(interactionId);
    if (t) clearTimeout(t);
    this.timers.delete(interactionId);
  }

  has(interactionId: string): boolean {
    return this.timers.has(interactionId);
  }

  /** At shutdown: clears every timer, and no later schedule() sets one. */
  close(): void {
    this.closed = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }
}
