import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import type { SessionEvent } from '../contracts/events.js';
import type { InboxStatus } from '../contracts/socket.js';
import { FaultPoints } from '../common/fault-points.js';
import { EventBus } from '../history/event-bus.js';
import { InboxRepository } from '../runs/inbox.repository.js';
import { userRoom } from './room-names.js';
import type { ChatNamespace } from './socket-handlers.js';

/** The interaction a committed event opens or closes, if any. */
function inboxChange(
  event: SessionEvent,
): { interactionId: string; status: InboxStatus } | undefined {
  if (event.type === 'request_confirmation' || event.type === 'component')
    return { interactionId: event.data.interactionId, status: 'pending' };
  // A retry on offer is a question too; a failure without one asks nothing.
  if (event.type === 'task_failed' && event.data.interactionId)
    return { interactionId: event.data.interactionId, status: 'pending' };
  if (event.type === 'interaction_resolved')
    return { interactionId: event.data.interactionId, status: 'resolved' };
  return undefined;
}

/**
 * The `inbox` socket event, derived from the committed log: every event that opens or resolves
 * an interaction (whichever path wrote it: an answer, a timeout, a cancel closing many at once)
 * becomes one `inbox` to the room of the session's owner, which each of their sockets joins on
 * connect. Only the node that committed the event sends it, through the adapter (with Redis, to
 * every node's sockets in that room); relayed events are other nodes' to send. The owner and the
 * kind are read once the event is committed; a session's reads are chained so its `inbox` events
 * leave this node in commit order (an open before its close). Two nodes' events about one question
 * can still cross (another node wrote the open, this one the close), so each carries its event's
 * seq: the client keeps the higher one.
 */
@Injectable()
export class InboxFanout implements OnModuleDestroy {
  private readonly logger = new Logger(InboxFanout.name);
  private readonly chains = new Map<string, Promise<void>>();
  private unsubscribe: (() => void) | undefined;

  constructor(
    @Inject(EventBus) private readonly bus: EventBus,
    @Inject(InboxRepository) private readonly inbox: InboxRepository,
    @Inject(FaultPoints) private readonly faults: FaultPoints,
  ) {}

  attach(ns: ChatNamespace): void {
    this.unsubscribe?.();
    this.unsubscribe = this.bus.subscribeAll((event, origin) => {
      if (origin !== 'local') return;
      const change = inboxChange(event);
      if (change)
        this.inOrder(event.sessionId, () =>
          this.send(ns, event.sessionId, { ...change, seq: event.seq }),
        );
    });
  }

  onModuleDestroy(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }

  private async send(
    ns: ChatNamespace,
    sessionId: string,
    change: { interactionId: string; status: InboxStatus; seq: number },
  ): Promise<void> {
    const owner = await this.inbox.ownerOf(change.interactionId);
    if (!owner) return;
    await this.faults.hit('inbox.sending');
    ns.to(userRoom(owner.user_id)).emit('inbox', {
      interactionId: change.interactionId,
      sessionId,
      kind: owner.kind,
      status: change.status,
      seq: change.seq,
    });
  }

  private inOrder(sessionId: string, work: () => Promise<void>): void {
    const next = (this.chains.get(sessionId) ?? Promise.resolve())
      .then(work)
      .catch((err: unknown) =>
        // Not persisted: a client that missed one reads GET /interactions again.
        this.logger.warn({ err, sessionId }, 'could not send an inbox event'),
      );
    this.chains.set(sessionId, next);
    void next.then(() => {
      if (this.chains.get(sessionId) === next) this.chains.delete(sessionId);
    });
  }
}
