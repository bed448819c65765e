import { Injectable } from '@nestjs/common';
import type { InteractionOutcome } from '../contracts/events.js';

export interface InteractionAnswer {
  outcome: InteractionOutcome;
  response?: unknown;
}

interface Waiter {
  resolve: (a: InteractionAnswer) => void;
}

/**
 * Where a paused run waits for its answer in this process. The database decides who answered
 * first (a conditional UPDATE); the winner hands the answer here, and the waiting run continues.
 */
@Injectable()
export class InteractionHub {
  private readonly waiters = new Map<string, Waiter>();

  wait(interactionId: string, signal: AbortSignal): Promise<InteractionAnswer> {
    return new Promise<InteractionAnswer>((resolve, reject) => {
      if (signal.aborted) {
        reject(signal.reason as Error);
        return;
      }
      const onAbort = (): void => {
        this.waiters.delete(interactionId);
        reject(signal.reason as Error);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiters.set(interactionId, {
        resolve: (a) => {
          signal.removeEventListener('abort', onAbort);
          this.waiters.delete(interactionId);
          resolve(a);
        },
      });
    });
  }

  /** True when a run of this process was waiting on it (and now continues). */
  deliver(interactionId: string, answer: InteractionAnswer): boolean {
    const w = this.waiters.get(interactionId);
    if (!w) return false;
    w.resolve(answer);
    return true;
  }

  /** The interactions runs of this process are waiting on. */
  waitingIds(): string[] {
    return [...this.waiters.keys()];
  }

  /** Drops a waiter that will never be answered (its question could not be published). */
  forget(interactionId: string): void {
    this.waiters.delete(interactionId);
  }
}
