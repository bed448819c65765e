import { Injectable } from '@nestjs/common';
import type { SessionsChange } from '../contracts/socket.js';

/** A committed change to one user's session list, for whoever tells that user's sockets. */
interface SessionListChange extends SessionsChange {
  userId: string;
}

type Listener = (change: SessionListChange) => void;

/**
 * In-process publish/subscribe of session list changes (created, renamed, closed), published by
 * the use cases after their commit. sessions/ does not know the transport: chat/ subscribes and
 * fans each change out to the user's sockets (SessionsFanout). A listener that throws does not
 * stop the others or the caller: the change is already committed, and the event is a hint only.
 */
@Injectable()
export class SessionNotifier {
  private readonly listeners = new Set<Listener>();

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  publish(change: SessionListChange): void {
    for (const listener of this.listeners) {
      try {
        listener(change);
      } catch {
        // Not persisted: a client that missed one reads GET /sessions again.
      }
    }
  }
}
