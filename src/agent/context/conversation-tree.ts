import type { ConversationEntry } from './conversation-entry.js';

/** One earlier intent as the model sees it: what the user said and the intent's answer, if any. */
export interface Turn {
  intentId: string;
  user: string;
  answer: string | undefined;
  tokens: number;
}

/** The text of an intent's latest run that produced any. */
interface Answer {
  runId: string;
  response: string | undefined;
  /** What the run streamed; its answer only while it has no response (interrupted, cancelled). */
  streamed: string;
}

interface IntentNode {
  intentId: string;
  parentId: string | null;
  user: string;
  /** Sent queued and not started yet: not part of the conversation (yet). */
  waiting: boolean;
  /** Rolled back (until a later run starts it again) or dequeued. */
  removed: boolean;
  answer: Answer | undefined;
  /** Tokens of the turn, counted when first needed; cleared whenever its text changes. */
  tokens: number | undefined;
}

export interface ConversationTreeOptions {
  /** The newest intents kept (by the seq of their message); older ones are forgotten. */
  maxIntents: number;
  count: (text: string) => number;
}

/**
 * A session's intents as a tree, built from its log entries in seq order (pure: no I/O). An intent
 * hangs under the intent its message names (`parentIntentId`), or, for a message logged before
 * messages named one, under the previous message of the log: old sessions read as one line.
 *
 * Only the newest `maxIntents` intents are kept. Parents are always older than their children, so
 * what is forgotten is a prefix of every branch: a walk that reaches a forgotten intent stops
 * there, as if it were the root.
 */
export class ConversationTree {
  private readonly nodes = new Map<string, IntentNode>();
  /** The intent of the newest message applied: the parent of a message without one. */
  private lastMessageIntent: string | null = null;
  private seq = 0;
  private held = 0;

  constructor(private readonly opts: ConversationTreeOptions) {}

  /** The seq of the newest entry applied: the next read starts after it. */
  get lastSeq(): number {
    return this.seq;
  }

  get size(): number {
    return this.nodes.size;
  }

  /** Characters of text held, for the cache's bound on memory. */
  get chars(): number {
    return this.held;
  }

  /** Applies entries in seq order; an entry at or below lastSeq was applied already. */
  apply(entries: readonly ConversationEntry[]): void {
    for (const e of entries) {
      if (e.seq <= this.seq) continue;
      this.seq = e.seq;
      this.applyOne(e);
    }
    this.trim();
  }

  /**
   * The turns on the branch `intentId` continues, newest first: its parent, the parent's parent,
   * … back to the root (or to the first forgotten intent). Rolled-back intents and intents that
   * never started are walked through, not included. Empty if the intent is unknown.
   */
  *branch(intentId: string): Generator<Turn> {
    const seen = new Set<string>([intentId]);
    let id = this.nodes.get(intentId)?.parentId ?? null;
    // `seen` guards against a malformed log naming a descendant as a parent.
    while (id !== null && !seen.has(id)) {
      seen.add(id);
      const node = this.nodes.get(id);
      if (!node) return;
      if (!node.waiting && !node.removed) yield this.turn(node);
      id = node.parentId;
    }
  }

  private applyOne(e: ConversationEntry): void {
    if (e.kind === 'message') {
      if (this.nodes.has(e.intentId)) return;
      this.nodes.set(e.intentId, {
        intentId: e.intentId,
        parentId: e.parentIntentId === undefined ? this.lastMessageIntent : e.parentIntentId,
        user: e.text,
        waiting: e.queued,
        removed: false,
        answer: undefined,
        tokens: undefined,
      });
      this.lastMessageIntent = e.intentId;
      this.held += e.text.length;
      return;
    }
    // Entries of an intent whose message was forgotten (or never read) are no use on their own.
    const node = this.nodes.get(e.intentId);
    if (!node) return;
    switch (e.kind) {
      case 'started':
        // A run starting again (a regenerate) brings a rolled-back intent back.
        node.waiting = false;
        node.removed = false;
        return;
      case 'rolled_back':
      case 'dequeued':
        node.removed = true;
        return;
      case 'response':
      case 'delta':
        this.addText(node, e.runId, e.kind, e.text);
        return;
      case 'failed':
        // A failed attempt's partial text is no answer (a cancelled or interrupted one's is).
        if (node.answer?.runId === e.runId && node.answer.response === undefined) {
          this.held -= answerChars(node.answer);
          node.answer = undefined;
          node.tokens = undefined;
        }
        return;
    }
  }

  /** Text of a run: a newer run's text replaces an older run's answer (a regenerate). */
  private addText(node: IntentNode, runId: string, kind: 'response' | 'delta', text: string): void {
    if (node.answer?.runId !== runId) {
      this.held -= answerChars(node.answer);
      node.answer = { runId, response: undefined, streamed: '' };
    }
    const before = answerChars(node.answer);
    if (kind === 'response') {
      node.answer.response = text;
      // The response is the run's whole answer: its deltas are not needed any more.
      node.answer.streamed = '';
    } else if (node.answer.response === undefined) {
      node.answer.streamed += text;
    }
    this.held += answerChars(node.answer) - before;
    node.tokens = undefined;
  }

  private turn(node: IntentNode): Turn {
    const a = node.answer;
    const answer = a === undefined ? undefined : (a.response ?? (a.streamed || undefined));
    node.tokens ??= this.opts.count(node.user) + (answer ? this.opts.count(answer) : 0);
    return { intentId: node.intentId, user: node.user, answer, tokens: node.tokens };
  }

  private trim(): void {
    // A Map iterates in insertion order, which is the seq order of the messages.
    for (const id of this.nodes.keys()) {
      if (this.nodes.size <= this.opts.maxIntents) return;
      const node = this.nodes.get(id);
      if (node) this.held -= node.user.length + answerChars(node.answer);
      this.nodes.delete(id);
    }
  }
}

function answerChars(a: Answer | undefined): number {
  return a ? (a.response?.length ?? 0) + a.streamed.length : 0;
}
