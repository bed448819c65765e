import type { EventDataMap, EventType, SessionEvent, SessionStateView } from '@hitl/contracts';
import { activePath, canRegenerate, conversation, siblingsOf, type Turn } from './conversation.js';
import { type ChatState, reduceEvents, withJoinState } from './reducer.js';

/** A session log written line by line, as the service would write it. */
class Log {
  readonly events: SessionEvent[] = [];
  private runs = 0;

  add<T extends EventType>(
    type: T,
    data: EventDataMap[T],
    ids: { intentId?: string; runId?: string } = {},
  ): this {
    const seq = this.events.length + 1;
    const createdAt = new Date(seq * 1000).toISOString();
    this.events.push({ sessionId: 's', seq, type, createdAt, data, ...ids } as SessionEvent);
    return this;
  }

  /** A user_message of intent `id` following `parent` (undefined: a message logged before links). */
  msg(id: string, parent: string | null | undefined, extra: { queued?: true } = {}): this {
    const data = { content: `text ${id}`, clientMessageId: `c-${id}`, ...extra };
    return this.add(
      'user_message',
      (parent === undefined ? data : { ...data, parentIntentId: parent }) as never,
      { intentId: id },
    );
  }

  /** One run of `id`: started, streamed `text`, then ended as `end` says. */
  run(
    id: string,
    text: string,
    end: 'completed' | 'interrupted' | 'rolled_back' | 'open' = 'completed',
    attempt = 1,
  ): this {
    const ids = { intentId: id, runId: `run-${++this.runs}` };
    this.add('task_started', { attempt }, ids).add('generating', { delta: text }, ids);
    if (end === 'completed') {
      this.add('response', { content: text }, ids);
      this.add('task_completed', { usage: { promptTokens: 1, completionTokens: 1 } }, ids);
    } else if (end !== 'open') this.add('task_cancelled', { reason: end }, ids);
    return this;
  }

  get state(): ChatState {
    return reduceEvents(this.events);
  }
}

const turns = (s: ChatState): Turn[] => conversation(s).filter((i): i is Turn => i.kind === 'turn');
const shown = (s: ChatState): string[] => turns(s).map((t) => t.intentId);

describe('intent tree, branches and the conversation shown', () => {
  it('follows the previous message when the log has no parent links (linear history)', () => {
    const s = new Log().msg('a', undefined).run('a', 'A').msg('b', undefined).run('b', 'B').state;
    expect(s.intents.b.parentIntentId).toBe('a');
    expect(s.intents.a.parentIntentId).toBeNull();
    expect(s.headIntentId).toBe('b');
    expect(activePath(s)).toEqual(['a', 'b']);
    expect(turns(s).map((t) => [t.content, t.run?.text])).toEqual([
      ['text a', 'A'],
      ['text b', 'B'],
    ]);
  });

  it('makes an edit a sibling, shows the newest branch, and the older one after a checkout', () => {
    const log = new Log()
      .msg('a', null)
      .run('a', 'A')
      .msg('b', 'a')
      .run('b', 'B')
      .msg('c', 'b')
      .run('c', 'C')
      .msg('b2', 'a') // "edit" of b: same parent
      .run('b2', 'B2');
    let s = log.state;
    expect(siblingsOf(s, 'b')).toEqual(['b', 'b2']);
    expect(siblingsOf(s, 'a')).toEqual(['a']);
    expect(activePath(s)).toEqual(['a', 'b2']);
    const b2 = turns(s)[1];
    expect([b2.siblingIndex, b2.siblings.length]).toEqual([1, 2]);

    s = log.add('head_changed', { intentId: 'b' }).state;
    expect(s.headIntentId).toBe('b');
    expect(shown(s)).toEqual(['a', 'b']);
    expect(turns(s)[1].siblingIndex).toBe(0);
    // A message after the checkout follows b: a new child beside c.
    s = log.msg('c2', 'b').run('c2', 'C2').state;
    expect(siblingsOf(s, 'c2')).toEqual(['c', 'c2']);
    expect(shown(s)).toEqual(['a', 'b', 'c2']);
  });

  it('shows the latest run of a regenerated intent and keeps the head on it', () => {
    const log = new Log().msg('a', null).run('a', 'first');
    expect(canRegenerate(log.state)).toBe(true);
    const s = log.run('a', 'second', 'completed', 2).state;
    expect(s.headIntentId).toBe('a');
    expect(turns(s)).toHaveLength(1);
    expect(turns(s)[0].run).toMatchObject({ text: 'second', attempt: 2, status: 'completed' });
    // The log still has both runs.
    expect(s.timeline.filter((i) => i.kind === 'run')).toHaveLength(2);
  });

  it('queues a follow-up, removes it from the queue when it starts or is dequeued', () => {
    const log = new Log()
      .msg('a', null)
      .run('a', '1 2 3', 'open')
      .msg('q1', 'a', { queued: true })
      .msg('q2', 'q1', { queued: true })
      .msg('q3', 'q2', { queued: true });
    let s = log.state;
    expect(s.queue.map((q) => q.intentId)).toEqual(['q1', 'q2', 'q3']);
    expect(s.queue[0]).toEqual({
      intentId: 'q1',
      content: 'text q1',
      createdAt: log.events[3].createdAt,
    });
    // The head is the newest sent, queued ones included; the page shows only what ran.
    expect(s.headIntentId).toBe('q3');
    expect(shown(s)).toEqual(['a']);
    expect(canRegenerate(s)).toBe(false);

    s = log.add('intent_dequeued', { intentId: 'q2', reason: 'user' }).state;
    expect(s.queue.map((q) => q.intentId)).toEqual(['q1', 'q3']);
    expect(s.intents.q2.dequeued).toBe(true);

    s = log
      .add('response', { content: '1 2 3' }, { intentId: 'a', runId: 'run-1' })
      .add(
        'task_completed',
        { usage: { promptTokens: 1, completionTokens: 1 } },
        { runId: 'run-1' },
      )
      .run('q1', 'Q1').state;
    expect(s.queue.map((q) => q.intentId)).toEqual(['q3']);
    // q3 follows q2, which never ran: the path walks through it, the page skips it.
    expect(activePath(s)).toEqual(['a', 'q1', 'q2', 'q3']);
    expect(shown(s)).toEqual(['a', 'q1']);
    s = log.run('q3', 'Q3').state;
    expect(s.queue).toEqual([]);
    expect(shown(s)).toEqual(['a', 'q1', 'q3']);
    // A queued or removed message is no version to navigate to.
    expect(siblingsOf(s, 'q1')).toEqual(['q1']);
  });

  it('keeps a stopped answer with its partial text and marks a rolled-back message', () => {
    let s = new Log()
      .msg('a', null)
      .run('a', '1 2 3', 'interrupted')
      .msg('b', 'a')
      .run('b', 'partial', 'rolled_back')
      .msg('c', 'b')
      .run('c', 'C').state;
    const [a, b, c] = turns(s);
    expect(a.run).toMatchObject({
      status: 'cancelled',
      cancelReason: 'interrupted',
      text: '1 2 3',
    });
    expect([a.rolledBack, b.rolledBack, c.rolledBack]).toEqual([false, true, false]);
    expect(b.run).toMatchObject({ cancelReason: 'rolled_back', text: 'partial' });
    s = new Log().msg('a', null).run('a', 'x', 'rolled_back').state;
    expect(canRegenerate(s)).toBe(false);
  });

  it('places reminders and notices between the turns where they fell in the log', () => {
    const s = new Log()
      .msg('a', null)
      .run('a', 'A')
      .add('reminder_due', { reminderId: 'r', label: 'stretch', dueAt: '2030-01-01T00:00:00Z' })
      .msg('b', 'a')
      .run('b', 'B')
      .add('session_closed', { by: 'user' }).state;
    expect(conversation(s).map((i) => (i.kind === 'turn' ? i.intentId : i.kind))).toEqual([
      'a',
      'reminder',
      'b',
      'notice',
    ]);
  });

  it('takes the queue and head from the join ack only when it did not see the log from seq 1', () => {
    const join: SessionStateView = {
      run: null,
      pendingInteraction: null,
      headIntentId: 'q',
      queue: [{ intentId: 'q', content: 'later', createdAt: '2030-01-01T00:00:00Z' }],
    };
    const whole = new Log().msg('a', null).run('a', 'A').state;
    expect(withJoinState(whole, join)).toBe(whole);
    const tail = reduceEvents(new Log().msg('a', null).run('a', 'A').events.slice(1));
    const joined = withJoinState(tail, join);
    expect(joined.queue.map((q) => q.intentId)).toEqual(['q']);
    expect(joined.headIntentId).toBe('q');
    // Later events keep it current: its run starts.
    const next = reduceEvents(
      [
        {
          sessionId: 's',
          seq: tail.lastSeq + 1,
          type: 'task_started',
          intentId: 'q',
          runId: 'rq',
          createdAt: '',
          data: { attempt: 1 },
        },
      ],
      joined,
    );
    expect(next.queue).toEqual([]);
  });

  it('survives a parent cycle in a corrupt log', () => {
    const s = new Log().msg('a', 'b').msg('b', 'a').state;
    expect(activePath(s)).toEqual(['a', 'b']);
  });
});
