import { AsyncMutex } from './async-mutex.js';

describe('AsyncMutex', () => {
  it('grants the lock in request order, one holder at a time', async () => {
    const m = new AsyncMutex();
    const order: string[] = [];
    let inside = 0;
    await Promise.all(
      ['a', 'b', 'c', 'd'].map(async (name, i) => {
        const release = await m.acquire();
        inside++;
        expect(inside).toBe(1);
        order.push(name);
        await new Promise((r) => setTimeout(r, 5 - i));
        inside--;
        release();
      }),
    );
    expect(order).toEqual(['a', 'b', 'c', 'd']);
  });

  it('ignores a second release', async () => {
    const m = new AsyncMutex();
    const r1 = await m.acquire();
    r1();
    r1();
    const r2 = await m.acquire();
    let third = false;
    const p = m.acquire().then((r) => {
      third = true;
      r();
    });
    await new Promise((r) => setTimeout(r, 5));
    expect(third).toBe(false);
    r2();
    await p;
    expect(third).toBe(true);
  });
});
