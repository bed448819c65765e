import type { ConversationEntry } from './conversation-entry.js';
import { ConversationTree } from './conversation-tree.js';

/** An entry before the log gives it a seq (Omit distributed over the kinds). */
type Unsequenced<E = ConversationEntry> = E extends unknown ? Omit<E, 'seq'> : never;

const words = (t: string): number => (t.match(/\S+/g) ?? []).length;

/** A log written in order: each helper appends the entry an event of that kind would give. */
class Log {
  readonly entries: ConversationEntry[] = [];
  private seq = 0;

  /** A message of the steering era (parentIntentId given; null for the first). */
  send(intentId: string, text: string, parent: string | null, queued = false): this {
    return this.add({ intentId, kind: 'message', text, parentIntentId: parent, queued });
  }

  /** A message logged before messages carried parentIntentId. */
  sendOld(intentId: string, text: string): this {
    return this.add({ intentId, kind: 'message', text, parentIntentId: undefined, queued: false });
  }

  start(intentId: string): this {
    return this.add({ intentId, kind: 'started' });
  }

  answer(intentId: string, text: string, runId = `${intentId}-run1`): this {
    return this.delta(intentId, text, runId).add({ intentId, kind: 'response', runId, text });
  }

  delta(intentId: string, text: string, runId = `${intentId}-run1`): this {
    return this.add({ intentId, kind: 'delta', runId, text });
  }

  rollBack(intentId: string): this {
    return this.add({ intentId, kind: 'rolled_back' });
  }

  fail(intentId: string, runId = `${intentId}-run1`): this {
    return this.add({ intentId, kind: 'failed', runId });
  }

  dequeue(intentId: string): this {
    return this.add({ intentId, kind: 'dequeued' });
  }

  /** A whole intent: message, start, answer. */
  turn(intentId: string, parent: string | null): this {
    return this.send(intentId, `say ${intentId}`, parent)
      .start(intentId)
      .answer(intentId, `answer ${intentId}`);
  }

  private add(e: Unsequenced): this {
    this.entries.push({ ...e, seq: ++this.seq });
    return this;
  }
}

const treeOf = (log: Log, maxIntents = 100): ConversationTree => {
  const tree = new ConversationTree({ maxIntents, count: words });
  tree.apply(log.entries);
  return tree;
};

/** The branch before `intentId`, oldest first, as `user => answer`. */
const branch = (tree: ConversationTree, intentId: string): string[] =>
  [...tree.branch(intentId)].reverse().map((t) => `${t.user} => ${t.answer ?? '-'}`);

describe('ConversationTree', () => {
  it('reads messages logged without parentIntentId as one line, each after the previous', () => {
    const log = new Log()
      .sendOld('a', 'one')
      .start('a')
      .answer('a', 'A')
      .sendOld('b', 'two')
      .start('b')
      .answer('b', 'B')
      .sendOld('c', 'three')
      .start('c');
    expect(branch(treeOf(log), 'c')).toEqual(['one => A', 'two => B']);
    // The current intent is never part of its own memory.
    expect(branch(treeOf(log), 'a')).toEqual([]);
  });

  it('continues a line of old messages with new ones that name their parent', () => {
    const log = new Log().sendOld('a', 'one').start('a').answer('a', 'A').turn('b', 'a');
    log.send('c', 'now', 'b').start('c');
    expect(branch(treeOf(log), 'c')).toEqual(['one => A', 'say b => answer b']);
  });

  it('gives an edited message (a sibling) the branch of its parent only', () => {
    const log = new Log().turn('a', null).turn('b', 'a').turn('c', 'b');
    // The user edits b: b2 hangs under a, beside b.
    log.send('b2', 'edited', 'a').start('b2').answer('b2', 'B2');
    log.send('d', 'next', 'b2').start('d');
    expect(branch(treeOf(log), 'b2')).toEqual(['say a => answer a']);
    expect(branch(treeOf(log), 'd')).toEqual(['say a => answer a', 'edited => B2']);
  });

  it('follows the old branch again after a checkout back to it', () => {
    const log = new Log().turn('a', null).turn('b', 'a').turn('b2', 'a');
    // Checked out to b: the next message follows b, not the newer b2.
    log.send('c', 'back', 'b').start('c');
    expect(branch(treeOf(log), 'c')).toEqual(['say a => answer a', 'say b => answer b']);
  });

  it('walks through a rolled-back intent without including it', () => {
    const log = new Log().turn('a', null).send('b', 'oops', 'a').start('b').delta('b', 'half');
    log.rollBack('b');
    // Whatever names the rolled-back intent as its parent continues from the intent before it.
    log.send('c', 'instead', 'b').start('c');
    expect(branch(treeOf(log), 'c')).toEqual(['say a => answer a']);
  });

  it('brings a rolled-back intent back when a run of it starts again', () => {
    const log = new Log().turn('a', null).send('b', 'again', 'a').start('b').rollBack('b');
    log.start('b').answer('b', 'B', 'b-run2').send('c', 'then', 'b').start('c');
    expect(branch(treeOf(log), 'c')).toEqual(['say a => answer a', 'again => B']);
  });

  it('leaves out a queued intent until it starts, then includes it', () => {
    const log = new Log().turn('a', null).send('b', 'queued one', 'a', true);
    log.send('c', 'queued two', 'b', true);
    const tree = treeOf(log);
    expect(branch(tree, 'c')).toEqual(['say a => answer a']);
    log.start('b').answer('b', 'B').start('c');
    tree.apply(log.entries);
    expect(branch(tree, 'c')).toEqual(['say a => answer a', 'queued one => B']);
  });

  it('walks through a dequeued intent', () => {
    const log = new Log().turn('a', null).send('b', 'never ran', 'a', true).dequeue('b');
    log.send('c', 'later', 'b').start('c');
    expect(branch(treeOf(log), 'c')).toEqual(['say a => answer a']);
  });

  it('keeps what an interrupted run streamed as its answer', () => {
    const log = new Log().send('a', 'long story', null).start('a');
    log.delta('a', 'once upon ').delta('a', 'a time');
    log.send('b', 'stop, tell me another', 'a').start('b');
    expect(branch(treeOf(log), 'b')).toEqual(['long story => once upon a time']);
  });

  it('does not take what a failed run streamed as an answer', () => {
    const log = new Log().send('a', 'long story', null).start('a');
    log.delta('a', 'once upon ').fail('a');
    log.send('b', 'try again later', 'a').start('b');
    expect(branch(treeOf(log), 'b')).toEqual(['long story => -']);
  });

  it('gives a message without any answer alone', () => {
    const log = new Log().send('a', 'hello', null).start('a').send('b', 'hi', 'a').start('b');
    const turns = [...treeOf(log).branch('b')];
    expect(turns).toEqual([{ intentId: 'a', user: 'hello', answer: undefined, tokens: 1 }]);
  });

  it('gives a regenerated intent its latest answer, once', () => {
    const log = new Log().turn('a', null).send('b', 'joke', 'a').start('b').answer('b', 'first');
    log.start('b').answer('b', 'second', 'b-run2');
    log.send('c', 'more', 'b').start('c');
    expect(branch(treeOf(log), 'c')).toEqual(['say a => answer a', 'joke => second']);
  });

  it('gives a regenerate that was interrupted its streamed text, not the earlier answer', () => {
    const log = new Log().send('a', 'joke', null).start('a').answer('a', 'first');
    log.start('a').delta('a', 'sec', 'a-run2').send('b', 'more', 'a').start('b');
    expect(branch(treeOf(log), 'b')).toEqual(['joke => sec']);
  });

  it('counts tokens of message and answer, again when the answer changes', () => {
    const log = new Log().send('a', 'one two', null).start('a').delta('a', 'three');
    log.send('b', 'x', 'a');
    const tree = treeOf(log);
    expect([...tree.branch('b')][0].tokens).toBe(3);
    log.delta('a', ' four five');
    tree.apply(log.entries);
    expect([...tree.branch('b')][0].tokens).toBe(5);
  });

  it('ignores entries applied already (seq at or below the last one)', () => {
    const log = new Log().send('a', 'hi', null).start('a').delta('a', 'x').send('b', 'y', 'a');
    const tree = treeOf(log);
    tree.apply(log.entries);
    expect(branch(tree, 'b')).toEqual(['hi => x']);
  });

  it('forgets the oldest intents beyond maxIntents: a walk stops at the first forgotten one', () => {
    const log = new Log().turn('a', null).turn('b', 'a').turn('c', 'b').turn('d', 'c');
    log.send('e', 'now', 'd').start('e');
    const tree = treeOf(log, 3);
    expect(tree.size).toBe(3);
    expect(branch(tree, 'e')).toEqual(['say c => answer c', 'say d => answer d']);
    // Entries of a forgotten intent are ignored.
    log.answer('a', 'late', 'a-run2');
    tree.apply(log.entries);
    expect(tree.size).toBe(3);
    // 'say c' + 'answer c', 'say d' + 'answer d', 'now'.
    expect(tree.chars).toBe(13 + 13 + 3);
  });

  it('is empty for an intent it does not know', () => {
    expect([...treeOf(new Log().turn('a', null)).branch('zzz')]).toEqual([]);
  });
});
