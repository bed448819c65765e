import type {
  EventDataMap,
  FormField,
  RunStatus,
  SessionEvent,
  SessionStateView,
} from '@hitl/contracts';
import {
  initialIntentTree,
  type IntentTreeState,
  reduceIntents,
  withJoinTree,
} from './intent-tree.js';

/** One thinking step of a run, as its latest `thinking` event left it. */
export type StepView = EventDataMap['thinking'];

export type TimelineItem =
  | { kind: 'user'; seq: number; content: string; clientMessageId: string }
  | {
      kind: 'run';
      seq: number;
      runId: string;
      intentId?: string;
      attempt: number;
      steps: StepView[];
      /** The answer so far while generating; the final answer once `response` arrived. */
      text: string;
      final: boolean;
      status: RunStatus;
      error?: string;
      cancelReason?: EventDataMap['task_cancelled']['reason'];
    }
  | { kind: 'reminder'; seq: number; reminderId: string; label: string; dueAt: string }
  | { kind: 'notice'; seq: number; text: string };

export type PendingInteraction =
  | {
      kind: 'confirm';
      id: string;
      runId?: string;
      intentId?: string;
      expiresAt: string;
      tool: string;
      arguments: Record<string, unknown>;
      message: string;
    }
  | {
      kind: 'form';
      id: string;
      runId?: string;
      intentId?: string;
      expiresAt: string;
      title: string;
      fields: FormField[];
    }
  | {
      kind: 'retry';
      id: string;
      runId?: string;
      intentId?: string;
      expiresAt?: string;
      error: string;
      attempt: number;
    };

/** A standing grant as the log tells it: the answer that made it, and its event's seq. */
export interface GrantView {
  tool: string;
  interactionId: string;
  seq: number;
}

/**
 * What a chat UI shows, derived only from the session's events: every item in log order
 * (`timeline`), and the intents as a tree with the head and the queue (see `conversation()` for
 * the branch a page shows).
 */
export interface ChatState extends IntentTreeState {
  lastSeq: number;
  timeline: TimelineItem[];
  pending: PendingInteraction | null;
  /** Status of the newest run; null before the first. */
  runStatus: RunStatus | null;
  remindersFired: { reminderId: string; label: string; dueAt: string; seq: number }[];
  closed: boolean;
  /**
   * The standing grants by tool ("Allow for this chat"), from `approval_granted` /
   * `approval_revoked`. Complete only when `fromStart`; `GET /sessions/:id/approvals` lists them all.
   */
  grants: Record<string, GrantView>;
  /** Reduced from seq 1 on: the log alone tells the queue and the head. */
  fromStart: boolean;
}

export const initialChatState: ChatState = {
  ...initialIntentTree,
  lastSeq: 0,
  timeline: [],
  pending: null,
  runStatus: null,
  remindersFired: [],
  closed: false,
  grants: {},
  fromStart: false,
};

type RunItem = Extract<TimelineItem, { kind: 'run' }>;

function updateRun(
  state: ChatState,
  e: SessionEvent,
  change: (run: RunItem) => RunItem,
): ChatState {
  const timeline = state.timeline.slice();
  let index = -1;
  for (let i = timeline.length - 1; i >= 0; i--) {
    const it = timeline[i];
    if (it.kind === 'run' && it.runId === e.runId) {
      index = i;
      break;
    }
  }
  const base: RunItem =
    index >= 0
      ? (timeline[index] as RunItem)
      : {
          kind: 'run',
          seq: e.seq,
          runId: e.runId ?? `seq-${e.seq}`,
          intentId: e.intentId,
          attempt: 1,
          steps: [],
          text: '',
          final: false,
          status: 'running',
        };
  const next = change(base);
  if (index >= 0) timeline[index] = next;
  else timeline.push(next);
  return { ...state, timeline, runStatus: next.status };
}

function withStep(steps: StepView[], s: StepView): StepView[] {
  const i = steps.findIndex((x) => x.step === s.step);
  if (i < 0) return [...steps, s];
  const copy = steps.slice();
  copy[i] = s;
  return copy;
}

/** The pure reducer: state after one more event. Events at or below `lastSeq` change nothing. */
export function reduceChat(state: ChatState, e: SessionEvent): ChatState {
  if (e.seq <= state.lastSeq) return state;
  const fromStart = state.fromStart || (state.lastSeq === 0 && e.seq === 1);
  const s = reduceIntents<ChatState>({ ...state, lastSeq: e.seq, fromStart }, e);
  const ids = { runId: e.runId, intentId: e.intentId };
  switch (e.type) {
    case 'user_message':
      return {
        ...s,
        timeline: [...s.timeline, { kind: 'user', seq: e.seq, ...e.data }],
      };
    case 'task_started':
      return updateRun(s, e, (r) => ({ ...r, attempt: e.data.attempt, status: 'running' }));
    case 'thinking':
      return updateRun(s, e, (r) => ({ ...r, steps: withStep(r.steps, e.data) }));
    case 'generating':
      return updateRun(s, e, (r) => ({ ...r, text: r.text + e.data.delta }));
    case 'response':
      return updateRun(s, e, (r) => ({ ...r, text: e.data.content, final: true }));
    case 'component':
      return updateRun(
        { ...s, pending: { ...e.data, id: e.data.interactionId, ...ids } },
        e,
        (r) => ({ ...r, status: 'awaiting_input' }),
      );
    case 'request_confirmation':
      return updateRun(
        { ...s, pending: { ...e.data, kind: 'confirm', id: e.data.interactionId, ...ids } },
        e,
        (r) => ({ ...r, status: 'awaiting_input' }),
      );
    case 'interaction_resolved': {
      const pending = s.pending?.id === e.data.interactionId ? null : s.pending;
      const after = { ...s, pending };
      if (s.pending?.kind === 'retry' || !e.runId) return after;
      return updateRun(after, e, (r) =>
        r.status === 'awaiting_input' ? { ...r, status: 'running' } : r,
      );
    }
    case 'task_failed': {
      const pending: PendingInteraction | null = e.data.interactionId
        ? {
            kind: 'retry',
            id: e.data.interactionId,
            ...ids,
            error: e.data.error,
            attempt: e.data.attempt,
          }
        : s.pending;
      return updateRun({ ...s, pending }, e, (r) => ({
        ...r,
        status: 'failed',
        error: e.data.error,
      }));
    }
    case 'task_completed':
      return updateRun(s, e, (r) => ({ ...r, status: 'completed', final: true }));
    case 'task_cancelled':
      return updateRun({ ...s, pending: null }, e, (r) => ({
        ...r,
        status: 'cancelled',
        cancelReason: e.data.reason,
      }));
    case 'session_expired':
      return {
        ...s,
        timeline: [...s.timeline, { kind: 'notice', seq: e.seq, text: 'Session idle: it expired' }],
      };
    case 'session_closed':
      return {
        ...s,
        closed: true,
        pending: null,
        timeline: [...s.timeline, { kind: 'notice', seq: e.seq, text: 'Session closed' }],
      };
    case 'reminder_due':
      return {
        ...s,
        remindersFired: [...s.remindersFired, { ...e.data, seq: e.seq }],
        timeline: [...s.timeline, { kind: 'reminder', seq: e.seq, ...e.data }],
      };
    case 'approval_granted': {
      const { tool, interactionId } = e.data;
      return { ...s, grants: { ...s.grants, [tool]: { tool, interactionId, seq: e.seq } } };
    }
    case 'approval_revoked': {
      if (!(e.data.tool in s.grants)) return s;
      const grants = { ...s.grants };
      delete grants[e.data.tool];
      return { ...s, grants };
    }
    case 'intent_dequeued':
    case 'head_changed':
      return s;
  }
}

/** The state after a whole list of events (in seq order). */
export function reduceEvents(events: readonly SessionEvent[], from = initialChatState): ChatState {
  return events.reduce(reduceChat, from);
}

/**
 * Adds what only the join ack knows to a state built from events: a retry offer's expiry, and
 * the queue and head when the state did not see the log from its start.
 */
export function withJoinState(state: ChatState, join: SessionStateView): ChatState {
  const s = withJoinTree(state, join, state.fromStart);
  const p = join.pendingInteraction;
  if (!p || !s.pending || s.pending.id !== p.id) return s;
  return { ...s, pending: { ...s.pending, expiresAt: p.expiresAt } };
}
