import type { EventPage, SessionEvent } from '@hitl/contracts';
import { SequencedLog } from './sequenced-log.js';

const ev = (seq: number): SessionEvent => ({
  sessionId: 's',
  seq,
  type: 'response',
  createdAt: new Date(0).toISOString(),
  data: { content: `r${seq}` },
});

function setup(logEvents: number, opts: { afterSeq?: number } = {}) {
  const all = Array.from({ length: logEvents }, (_, i) => ev(i + 1));
  const delivered: number[] = [];
  const reads: number[] = [];
  const fetchAfter = (after: number): Promise<EventPage> => {
    reads.push(after);
    const items = all.filter((e) => e.seq > after).slice(0, 2);
    return Promise.resolve({ items, hasMore: items.length > 0 && items.at(-1)!.seq < logEvents });
  };
  const log = new SequencedLog({
    afterSeq: opts.afterSeq,
    gapDelayMs: 5,
    fetchAfter,
    deliver: (e) => delivered.push(e.seq),
  });
  return { log, delivered, reads };
}

const until = async (pred: () => boolean): Promise<void> => {
  for (let i = 0; i < 200 && !pred(); i++) await new Promise((r) => setTimeout(r, 5));
};

describe('SequencedLog', () => {
  it('delivers every seq once, dropping repeats from replay and live', () => {
    const { log, delivered } = setup(0);
    log.acceptAll([ev(1), ev(2), ev(2), ev(1), ev(3)]);
    log.accept(ev(3));
    expect(delivered).toEqual([1, 2, 3]);
    expect(log.lastSeq).toBe(3);
  });

  it('holds early events back and delivers them in order once the hole closes', () => {
    const { log, delivered } = setup(0);
    log.accept(ev(3));
    log.accept(ev(2));
    expect(delivered).toEqual([]);
    log.accept(ev(1));
    expect(delivered).toEqual([1, 2, 3]);
    expect(log.heldCount).toBe(0);
  });

  it('fills a hole that stays open from the log over REST', async () => {
    const { log, delivered, reads } = setup(7);
    log.accept(ev(1));
    log.accept(ev(7));
    await until(() => delivered.length === 7);
    expect(delivered).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(reads[0]).toBe(1);
  });

  it('resumes after a given seq and catches up page by page', async () => {
    const { log, delivered, reads } = setup(6, { afterSeq: 2 });
    log.accept(ev(2));
    await log.catchUp();
    expect(delivered).toEqual([3, 4, 5, 6]);
    expect(reads).toEqual([2, 4]);
  });

  it('catches up to the end of the log even while a gap fill is under way', async () => {
    const all = Array.from({ length: 10 }, (_, i) => ev(i + 1));
    const delivered: number[] = [];
    let release: () => void = () => undefined;
    const firstRead = new Promise<void>((r) => (release = r));
    let reads = 0;
    const log = new SequencedLog({
      gapDelayMs: 1,
      fetchAfter: async (after) => {
        if (reads++ === 0) await firstRead;
        const items = all.filter((e) => e.seq > after).slice(0, 2);
        return { items, hasMore: items.length > 0 && items.at(-1)!.seq < 10 };
      },
      deliver: (e) => delivered.push(e.seq),
    });
    log.accept(ev(2)); // a hole at 1: a gap fill starts and waits on its first read
    await until(() => reads === 1);
    const caughtUp = log.catchUp();
    release();
    await caughtUp;
    expect(delivered).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });
});
