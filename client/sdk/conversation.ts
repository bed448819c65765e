import { isActiveRunStatus } from '@hitl/contracts';
import type { IntentNode, IntentTreeState } from './intent-tree.js';
import type { ChatState, TimelineItem } from './reducer.js';

export type RunItem = Extract<TimelineItem, { kind: 'run' }>;

/** One user message of the shown branch with its intent's answer. */
export interface Turn {
  kind: 'turn';
  seq: number;
  intentId: string;
  content: string;
  clientMessageId: string;
  parentIntentId: string | null;
  /** The versions of this message (same parent, in log order), for "‹ 2/3 ›"; itself included. */
  siblings: readonly string[];
  /** Its place among `siblings` (0-based). */
  siblingIndex: number;
  /** Ended by a rollback: out of the agent's memory. */
  rolledBack: boolean;
  /** The intent's latest run (a retry or regenerate replaces the earlier); null before it starts. */
  run: RunItem | null;
}

export type ConversationItem = Turn | Extract<TimelineItem, { kind: 'reminder' | 'notice' }>;

/** Ever in the conversation: not waiting in the queue, not removed from it unrun. */
const ran = (n: IntentNode | undefined): n is IntentNode => !!n && !n.queued && !n.dequeued;

/**
 * The branch from the root to `to` (default the head), root first: every intent on the way,
 * queued, dequeued and rolled-back ones included.
 */
export function activePath(state: IntentTreeState, to = state.headIntentId): string[] {
  const path: string[] = [];
  const seen = new Set<string>();
  for (let id = to; id && !seen.has(id);) {
    const node = state.intents[id];
    if (!node) break;
    seen.add(id);
    path.push(id);
    id = node.parentIntentId;
  }
  return path.reverse();
}

/**
 * The versions of an intent's message: the intents with the same parent that ran (queued and
 * removed ones are no version one can check out), in log order.
 */
export function siblingsOf(state: IntentTreeState, intentId: string): string[] {
  const node = state.intents[intentId];
  if (!node) return [];
  const all = state.childIntentIds[node.parentIntentId ?? ''] ?? [];
  return all.filter((id) => id === intentId || ran(state.intents[id]));
}

/** The newest run of each intent, by the order runs started. */
export function latestRuns(state: ChatState): Map<string, RunItem> {
  const out = new Map<string, RunItem>();
  for (const it of state.timeline) if (it.kind === 'run' && it.intentId) out.set(it.intentId, it);
  return out;
}

/**
 * What a page shows: the turns of the head's branch, root first (each user message with its
 * latest answer), with reminders and notices where they fell. Queued messages are not in it:
 * they are `state.queue`.
 */
export function conversation(state: ChatState): ConversationItem[] {
  const runs = latestRuns(state);
  const turns: Turn[] = activePath(state)
    .map((id) => state.intents[id])
    .filter(ran)
    .map((n) => {
      const siblings = siblingsOf(state, n.intentId);
      return {
        kind: 'turn',
        seq: n.seq,
        intentId: n.intentId,
        content: n.content,
        clientMessageId: n.clientMessageId,
        parentIntentId: n.parentIntentId,
        siblings,
        siblingIndex: siblings.indexOf(n.intentId),
        rolledBack: n.rolledBack,
        run: runs.get(n.intentId) ?? null,
      };
    });
  const out: ConversationItem[] = [];
  let next = 0;
  for (const it of state.timeline) {
    if (it.kind !== 'reminder' && it.kind !== 'notice') continue;
    while (next < turns.length && turns[next].seq < it.seq) out.push(turns[next++]);
    out.push(it);
  }
  out.push(...turns.slice(next));
  return out;
}

/**
 * Whether `intent:regenerate` of the head may be asked now: its latest run ended (completed,
 * failed or cancelled, not rolled back) and no run of the session is active.
 */
export function canRegenerate(state: ChatState): boolean {
  const head = state.headIntentId ? state.intents[state.headIntentId] : undefined;
  if (!ran(head) || head.rolledBack || state.closed) return false;
  if (state.runStatus && isActiveRunStatus(state.runStatus)) return false;
  const run = latestRuns(state).get(head.intentId);
  return !!run && ['completed', 'failed', 'cancelled'].includes(run.status);
}
