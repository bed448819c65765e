/**
 * What the conversation memory reads from the session log, one entry per event that shapes it
 * (docs/architecture.md, "Conversation memory"). Every entry names its intent.
 */
export type ConversationEntry = { seq: number; intentId: string } & (
  | {
      /** A `user_message`: the intent and where it hangs in the tree. */
      kind: 'message';
      text: string;
      /**
       * The intent it follows; null for a conversation's first. Undefined for a message logged
       * before messages carried it: such a message follows the previous message of the log.
       */
      parentIntentId: string | null | undefined;
      /** Sent while the session was busy: it joins the conversation only once started. */
      queued: boolean;
    }
  /** `task_started`: a run of the intent began (so a queued intent has left the queue). */
  | { kind: 'started' }
  /** `task_cancelled` with reason `rolled_back`: the intent leaves the conversation. */
  | { kind: 'rolled_back' }
  /** `intent_dequeued`: a queued intent left the queue without ever running. */
  | { kind: 'dequeued' }
  /** `task_failed`: a run failed; what it streamed is not an answer. */
  | { kind: 'failed'; runId: string }
  /** A run's final `response`. */
  | { kind: 'response'; runId: string; text: string }
  /** A run's streamed text (`generating`), its answer when the run ended without a response. */
  | { kind: 'delta'; runId: string; text: string }
);
