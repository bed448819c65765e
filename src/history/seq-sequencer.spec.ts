import { jest } from '@jest/globals';
import type { SessionEvent } from '../contracts/events.js';
import { type LogReader, SeqSequencer } from './seq-sequencer.js';

const ev = (seq: number): SessionEvent => ({
  sessionId: 's',
  seq,
  type: 'thinking',
  createdAt: '',
  data: { step: 'intent_recognition', status: 'started' },
});

/** A log holding seqs 1..n, recording what was read from it. */
class FakeLog implements LogReader {
  readonly reads: string[] = [];
  failNext = false;
  /** How many of the next listAfter reads fail. */
  failAfterReads = 0;
  constructor(public n: number) {}
  listAfter(_s: string, after: number, limit: number): Promise<SessionEvent[]> {
    this.reads.push(`after ${after}`);
    if (this.failAfterReads > 0) {
      this.failAfterReads -= 1;
      return Promise.reject(new Error('database away'));
    }
    const out: SessionEvent[] = [];
    for (let s = after + 1; s <= this.n && out.length < limit; s++) out.push(ev(s));
    return Promise.resolve(out);
  }
  listBetween(_s: string, from: number, to: number): Promise<SessionEvent[]> {
    this.reads.push(`between ${from} ${to}`);
    if (this.failNext) {
      this.failNext = false;
      return Promise.reject(new Error('database away'));
    }
    const out: SessionEvent[] = [];
    for (let s = from + 1; s < to && s <= this.n; s++) out.push(ev(s));
    return Promise.resolve(out);
  }
}

const setup = (log: FakeLog, opts: { start?: number; maxHeld?: number } = {}) => {
  const got: number[] = [];
  const errors: unknown[] = [];
  const seq = new SeqSequencer({
    sessionId: 's',
    log,
    gapWaitMs: 20,
    emit: (e) => got.push(e.seq),
    onError: (e) => errors.push(e),
    ...opts,
  });
  return { seq, got, errors };
};

const until = async (pred: () => boolean): Promise<void> => {
  const deadline = Date.now() + 5000;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
};

describe('SeqSequencer', () => {
  it('emits in seq order, holding what is ahead until the gap closes, and drops duplicates', () => {
    const { seq, got } = setup(new FakeLog(0), { start: 0 });
    for (const s of [2, 1, 1, 4, 3, 2, 5]) seq.push(ev(s));
    expect(got).toEqual([1, 2, 3, 4, 5]);
    seq.close();
  });

  it('reads a gap that does not close from the log', async () => {
    const log = new FakeLog(6);
    const { seq, got } = setup(log, { start: 2 });
    seq.push(ev(6));
    seq.push(ev(5));
    await until(() => got.length === 4);
    expect(got).toEqual([3, 4, 5, 6]);
    expect(log.reads).toEqual(['between 2 5']);
    seq.close();
  });

  it('holds events until it has a start, then drops those at or below it', () => {
    const { seq, got } = setup(new FakeLog(0));
    seq.push(ev(3));
    seq.push(ev(5));
    seq.push(ev(4));
    expect(got).toEqual([]);
    seq.begin(3);
    expect(got).toEqual([4, 5]);
    seq.close();
  });

  it('holds at most maxHeld events and reads the rest from the log', async () => {
    const log = new FakeLog(20);
    const { seq, got } = setup(log, { start: 0, maxHeld: 3 });
    for (let s = 20; s >= 2; s--) seq.push(ev(s));
    expect(seq.heldCount).toBe(3);
    await until(() => got.length === 20);
    expect(got).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    seq.close();
  });

  it('retries a failed gap read and reports the failure', async () => {
    const log = new FakeLog(3);
    log.failNext = true;
    const { seq, got, errors } = setup(log, { start: 1 });
    seq.push(ev(3));
    await until(() => got.length === 2);
    expect(got).toEqual([2, 3]);
    expect(errors).toHaveLength(1);
    seq.close();
  });

  it('catches up from the log in pages while live events arrive', async () => {
    const log = new FakeLog(7);
    const { seq, got } = setup(log, { start: 0 });
    const done = seq.catchUp(3);
    seq.push(ev(8));
    await done;
    expect(got).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(log.reads).toEqual(['after 0', 'after 3', 'after 6']);
    seq.close();
  });

  it('resync reads what the log holds after the position though no later event showed a gap', async () => {
    const log = new FakeLog(4);
    const { seq, got } = setup(log, { start: 2 });
    seq.resync(10);
    await until(() => got.length === 2);
    expect(got).toEqual([3, 4]);
    expect(log.reads).toEqual(['after 2']);
    seq.close();
  });

  it('a resync whose read fails is tried again until it succeeds', async () => {
    const log = new FakeLog(4);
    log.failAfterReads = 2;
    const { seq, got, errors } = setup(log, { start: 2 });
    seq.resync(10);
    await until(() => got.length === 2);
    expect(got).toEqual([3, 4]);
    expect(log.reads).toEqual(['after 2', 'after 2', 'after 2']);
    expect(errors).toHaveLength(2);
    seq.close();
  });

  it('a failed resync is not tried again once the sequencer is closed', async () => {
    const log = new FakeLog(4);
    log.failAfterReads = 1;
    const { seq, errors } = setup(log, { start: 2 });
    seq.resync(10);
    await until(() => errors.length === 1);
    seq.close();
    // Longer than the first retry's wait (gapWaitMs 20): no read comes after close.
    await new Promise((r) => setTimeout(r, 100));
    expect(log.reads).toEqual(['after 2']);
  });

  it('resyncs asked for during a read run one after another: one more read, not one each', async () => {
    const log = new FakeLog(4);
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    const read = log.listAfter.bind(log);
    let first = true;
    log.listAfter = async (s, after, limit) => {
      if (first) {
        first = false;
        const page = await read(s, after, limit);
        await gate;
        return page;
      }
      return read(s, after, limit);
    };
    const { seq, got } = setup(log, { start: 2 });
    seq.resync(10);
    // Committed while the first read is on its way: only a read after it can see them.
    log.n = 6;
    seq.resync(10);
    seq.resync(10);
    expect(log.reads).toEqual(['after 2']);
    open();
    await until(() => got.length === 4);
    expect(got).toEqual([3, 4, 5, 6]);
    expect(log.reads).toEqual(['after 2', 'after 4']);
    seq.close();
  });

  it('resyncs asked for during a read that fails leave one retry', async () => {
    const log = new FakeLog(4);
    log.failAfterReads = 1;
    const { seq, got, errors } = setup(log, { start: 2 });
    seq.resync(10);
    seq.resync(10);
    seq.resync(10);
    await until(() => got.length === 2);
    expect(errors).toHaveLength(1);
    expect(log.reads).toEqual(['after 2', 'after 2']);
    seq.close();
  });

  it('reads one gap at a time, also when a catch-up ends while a gap read is in flight', async () => {
    jest.useFakeTimers();
    try {
      // The log is empty: a gap read waits until released; catch-ups answer at once.
      const log = new FakeLog(0);
      let inFlight = 0;
      let most = 0;
      const gates: (() => void)[] = [];
      log.listBetween = (_s, from, to) => {
        log.reads.push(`between ${from} ${to}`);
        inFlight += 1;
        most = Math.max(most, inFlight);
        return new Promise((resolve) =>
          gates.push(() => {
            inFlight -= 1;
            resolve([]);
          }),
        );
      };
      const { seq, got } = setup(log, { start: 0 });
      seq.push(ev(3));
      await jest.advanceTimersByTimeAsync(20);
      expect(log.reads).toEqual(['between 0 3']);
      // A resync reads and ends while the gap read still waits.
      seq.resync(10);
      await jest.advanceTimersByTimeAsync(1_000);
      expect(log.reads).toEqual(['between 0 3', 'after 0']);
      expect(most).toBe(1);
      // The gap read answers: the log has no 1 or 2, so the held 3 goes out.
      gates.shift()?.();
      await jest.advanceTimersByTimeAsync(1_000);
      expect(got).toEqual([3]);
      expect(most).toBe(1);
      seq.close();
    } finally {
      jest.useRealTimers();
    }
  });

  it('a gap whose wait ends during a catch-up is read after it, not beside it', async () => {
    jest.useFakeTimers();
    try {
      const log = new FakeLog(3);
      let release!: () => void;
      const catchUpRead = log.listAfter.bind(log);
      log.listAfter = (s, after, limit) =>
        new Promise((resolve) => (release = () => resolve(catchUpRead(s, after, limit))));
      const { seq, got } = setup(log, { start: 0 });
      seq.push(ev(3));
      // The catch-up starts before the gap's wait is over and is still reading when it is.
      seq.resync(10);
      await jest.advanceTimersByTimeAsync(1_000);
      // No gap read beside it (the catch-up's own read is recorded when it answers).
      expect(log.reads).toEqual([]);
      release();
      await jest.advanceTimersByTimeAsync(1_000);
      expect(got).toEqual([1, 2, 3]);
      expect(log.reads).toEqual(['after 0']);
      seq.close();
    } finally {
      jest.useRealTimers();
    }
  });

  it('resync does nothing before a start position or after close', () => {
    const log = new FakeLog(4);
    const { seq } = setup(log);
    seq.resync(10);
    seq.begin(1);
    seq.close();
    seq.resync(10);
    expect(log.reads).toEqual([]);
  });

  it('emits nothing after close', () => {
    const { seq, got } = setup(new FakeLog(0), { start: 0 });
    seq.push(ev(2));
    seq.close();
    seq.push(ev(1));
    expect(got).toEqual([]);
  });
});
