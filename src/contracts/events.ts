/**
 * The session log's event types and their `data`, exactly as docs/protocol.md "Events" lists
 * them. The gateway, the SSE stream, the AsyncAPI document and the client all read this file.
 */
export const EVENT_TYPES = [
  'user_message',
  'task_started',
  'thinking',
  'generating',
  'response',
  'component',
  'request_confirmation',
  'interaction_resolved',
  'task_failed',
  'task_completed',
  'task_cancelled',
  'session_expired',
  'session_closed',
  'reminder_due',
  'intent_dequeued',
  'head_changed',
  'approval_granted',
  'approval_revoked',
] as const;

export type EventType = (typeof EVENT_TYPES)[number];

export const THINKING_STEPS = [
  'intent_recognition',
  'parameter_extraction',
  'tool_execution',
  'response_generation',
] as const;
export type ThinkingStep = (typeof THINKING_STEPS)[number];

export const THINKING_STATUSES = ['started', 'completed', 'failed'] as const;
export type ThinkingStatus = (typeof THINKING_STATUSES)[number];

export const INTERACTION_KINDS = ['confirm', 'form', 'retry'] as const;
export type InteractionKind = (typeof INTERACTION_KINDS)[number];

export const INTERACTION_OUTCOMES = [
  'approved',
  'denied',
  'submitted',
  'retry',
  'no_retry',
  'timeout',
  'cancelled',
] as const;
export type InteractionOutcome = (typeof INTERACTION_OUTCOMES)[number];

/**
 * How far an approval reaches (`{approved: true, scope}`): this call only (the default), or
 * every later call of the same tool in the session, until revoked (a standing grant).
 */
export const APPROVAL_SCOPES = ['once', 'session'] as const;
export type ApprovalScope = (typeof APPROVAL_SCOPES)[number];

/** The longest reason a denial may carry (`{approved: false, reason}`), in characters. */
export const DENY_REASON_MAX = 500;

export const CANCEL_REASONS = [
  'user',
  'admin',
  'expired',
  'shutdown',
  'interrupted',
  'rolled_back',
] as const;
export type CancelReason = (typeof CANCEL_REASONS)[number];

/**
 * What `message:send` does while the session is busy (a run going, or intents queued):
 * refuse (SESSION_BUSY), queue the intent, or end the run and start at once (keeping, or rolling
 * back, what the ended intent said).
 */
export const IF_BUSY_POLICIES = ['reject', 'enqueue', 'interrupt', 'rollback'] as const;
export type IfBusyPolicy = (typeof IF_BUSY_POLICIES)[number];

/** Why a queued intent left the queue without running (`intent_dequeued.reason`). */
export const DEQUEUE_REASONS = ['user', 'closed', 'expired'] as const;
export type DequeueReason = (typeof DEQUEUE_REASONS)[number];

/** Who closed a session (`session_closed.by`). */
export const CLOSED_BY = ['user', 'admin'] as const;
export type ClosedBy = (typeof CLOSED_BY)[number];

export const FORM_FIELD_TYPES = ['text', 'datetime', 'number'] as const;
export type FormFieldType = (typeof FORM_FIELD_TYPES)[number];

export interface FormField {
  name: string;
  label: string;
  type: FormFieldType;
  required: boolean;
}

export interface EventDataMap {
  user_message: {
    content: string;
    clientMessageId: string;
    /** The intent this one follows (its branch); null for the first of a conversation. */
    parentIntentId: string | null;
    /** Sent with `ifBusy: "enqueue"` while the session was busy: it waits in the queue. */
    queued?: true;
  };
  task_started: { attempt: number };
  thinking: { step: ThinkingStep; status: ThinkingStatus; detail?: string };
  generating: { delta: string };
  response: { content: string };
  component: {
    interactionId: string;
    kind: 'form';
    title: string;
    fields: FormField[];
    expiresAt: string;
  };
  request_confirmation: {
    interactionId: string;
    tool: string;
    arguments: Record<string, unknown>;
    message: string;
    expiresAt: string;
  };
  interaction_resolved: {
    interactionId: string;
    outcome: InteractionOutcome;
    connectionId?: string;
    /** A denied confirmation's reason, as the person gave it. */
    reason?: string;
    /** An approved confirmation's scope (`once` unless the answer asked for `session`). */
    scope?: ApprovalScope;
    /** The arguments an approved confirmation's tool ran with, when the answer gave them. */
    arguments?: Record<string, unknown>;
    /** With `arguments`: whether they differ from the arguments asked about. */
    edited?: boolean;
  };
  task_failed: { error: string; attempt: number; canRetry: boolean; interactionId?: string };
  task_completed: { usage: { promptTokens: number; completionTokens: number } };
  task_cancelled: { reason: CancelReason };
  session_expired: { idleMs: number };
  session_closed: { by: ClosedBy };
  /** Written by the reminder scheduler (no intent, no run) into the session it was made in. */
  reminder_due: { reminderId: string; label: string; dueAt: string };
  intent_dequeued: { intentId: string; reason: DequeueReason };
  /** The session's head moved (session:checkout): new messages follow this intent. */
  head_changed: { intentId: string };
  /** A confirmation approved with scope session: the tool runs unasked in this session. */
  approval_granted: { tool: string; scope: 'session'; interactionId: string };
  /** A standing grant was revoked (REST): the tool asks again from its next call. */
  approval_revoked: { tool: string };
}

/** One entry of a session's log, as clients receive it. */
export interface SessionEventOf<T extends EventType> {
  sessionId: string;
  seq: number;
  type: T;
  intentId?: string;
  runId?: string;
  connectionId?: string;
  createdAt: string;
  data: EventDataMap[T];
}

/** Any event, discriminated by `type` (so `data` narrows with it). */
export type SessionEvent = { [T in EventType]: SessionEventOf<T> }[EventType];

/** What a writer hands to the log; seq and createdAt are assigned by the log. */
export type NewEvent = {
  [T in EventType]: {
    type: T;
    data: EventDataMap[T];
    intentId?: string;
    runId?: string;
    connectionId?: string;
  };
}[EventType];
