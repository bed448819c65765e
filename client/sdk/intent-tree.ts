import type { QueuedIntentView, SessionEvent, SessionStateView } from '@hitl/contracts';

/** One user message of the session and what became of its intent, as the log tells it. */
export interface IntentNode {
  intentId: string;
  /** seq of its `user_message`. */
  seq: number;
  content: string;
  clientMessageId: string;
  /** The intent it follows; null for the first of a conversation. */
  parentIntentId: string | null;
  /** Waiting in the session's queue (sent with `ifBusy: "enqueue"`, no run yet). */
  queued: boolean;
  /** Left the queue without ever running (`intent_dequeued`). */
  dequeued: boolean;
  /** Ended by a `rollback` send: out of the agent's memory, its events kept. */
  rolledBack: boolean;
}

/** The intents of a session as a tree (parent links), with the head and the queue. */
export interface IntentTreeState {
  intents: Readonly<Record<string, IntentNode>>;
  /** Children of each intent in log order; key `''` holds the roots (parent null). */
  childIntentIds: Readonly<Record<string, readonly string[]>>;
  /** The intent a new message follows by default; null before the first message. */
  headIntentId: string | null;
  /** The queued intents, next first. */
  queue: readonly QueuedIntentView[];
  /** The intent of the newest user_message: the parent of a message logged without one. */
  lastIntentId: string | null;
}

export const initialIntentTree: IntentTreeState = {
  intents: {},
  childIntentIds: {},
  headIntentId: null,
  queue: [],
  lastIntentId: null,
};

const childKey = (parent: string | null): string => parent ?? '';

function patch<S extends IntentTreeState>(s: S, id: string, change: Partial<IntentNode>): S {
  const node = s.intents[id];
  if (!node) return s;
  return { ...s, intents: { ...s.intents, [id]: { ...node, ...change } } };
}

const withoutQueued = <S extends IntentTreeState>(s: S, id: string): S =>
  s.queue.some((q) => q.intentId === id)
    ? { ...s, queue: s.queue.filter((q) => q.intentId !== id) }
    : s;

/**
 * The tree's part of one event. A message logged before parent links existed has no
 * `parentIntentId` field and follows the previous user_message (the history was linear).
 * The head moves with each message (queued ones included) and each `head_changed`; a new run of
 * an intent (retry, regenerate) leaves it where it is.
 */
export function reduceIntents<S extends IntentTreeState>(s: S, e: SessionEvent): S {
  switch (e.type) {
    case 'user_message': {
      const id = e.intentId ?? `seq-${e.seq}`;
      if (s.intents[id]) return s;
      const parent = e.data.parentIntentId === undefined ? s.lastIntentId : e.data.parentIntentId;
      const queued = e.data.queued === true;
      const node: IntentNode = {
        intentId: id,
        seq: e.seq,
        content: e.data.content,
        clientMessageId: e.data.clientMessageId,
        parentIntentId: parent,
        queued,
        dequeued: false,
        rolledBack: false,
      };
      const key = childKey(parent);
      return {
        ...s,
        intents: { ...s.intents, [id]: node },
        childIntentIds: { ...s.childIntentIds, [key]: [...(s.childIntentIds[key] ?? []), id] },
        headIntentId: id,
        lastIntentId: id,
        queue: queued
          ? [...s.queue, { intentId: id, content: e.data.content, createdAt: e.createdAt }]
          : s.queue,
      };
    }
    case 'task_started': {
      // The intent's first run is when it left the queue; a later one (retry) changes nothing.
      if (!e.intentId) return s;
      const started = withoutQueued(s, e.intentId);
      return patch(started, e.intentId, { queued: false, rolledBack: false });
    }
    case 'intent_dequeued':
      return patch(withoutQueued(s, e.data.intentId), e.data.intentId, {
        queued: false,
        dequeued: true,
      });
    case 'head_changed':
      return { ...s, headIntentId: e.data.intentId };
    case 'task_cancelled': {
      if (!e.intentId) return s;
      // A queued intent's run cancelled before it began (no task_started) left the queue too.
      const left = s.intents[e.intentId]?.queued
        ? patch(withoutQueued(s, e.intentId), e.intentId, { queued: false })
        : s;
      return e.data.reason === 'rolled_back' ? patch(left, e.intentId, { rolledBack: true }) : left;
    }
    case 'session_closed':
      // Closing drops the queue (the service also logs an intent_dequeued for each).
      return s.queue.length ? { ...s, queue: [] } : s;
    case 'thinking':
    case 'generating':
    case 'response':
    case 'component':
    case 'request_confirmation':
    case 'interaction_resolved':
    case 'task_failed':
    case 'task_completed':
    case 'session_expired':
    case 'reminder_due':
    case 'approval_granted':
    case 'approval_revoked':
      return s;
  }
}

/**
 * What only the join ack knows: the queue and the head before the first event this state saw.
 * A state reduced from seq 1 knows both from the log, which is newer than any snapshot.
 */
export function withJoinTree<S extends IntentTreeState>(
  s: S,
  join: SessionStateView,
  fromStart: boolean,
): S {
  if (fromStart) return s;
  const known = new Set(s.queue.map((q) => q.intentId));
  const earlier = (join.queue ?? []).filter(
    (q) => !known.has(q.intentId) && s.intents[q.intentId]?.queued !== false,
  );
  return {
    ...s,
    queue: earlier.length ? [...earlier, ...s.queue] : s.queue,
    headIntentId: s.headIntentId ?? join.headIntentId ?? null,
  };
}
