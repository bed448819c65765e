import { jest } from '@jest/globals';
import { InteractionTimers } from './interaction-timers.js';

describe('InteractionTimers', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('fires the handler at the expiry', async () => {
    const timers = new InteractionTimers();
    const expired: string[] = [];
    timers.setHandler((id) => Promise.resolve(void expired.push(id)));
    timers.schedule('i1', new Date(Date.now() + 1000));
    await jest.advanceTimersByTimeAsync(1000);
    expect(expired).toEqual(['i1']);
  });

  it('schedules nothing once closed for shutdown: a question offered after it never fires', async () => {
    const timers = new InteractionTimers();
    const expired: string[] = [];
    timers.setHandler((id) => Promise.resolve(void expired.push(id)));
    timers.close();
    // A takeover committing during the shutdown offers a retry; its after-commit schedules.
    timers.schedule('late', new Date(Date.now() + 1000));
    expect(timers.has('late')).toBe(false);
    await jest.advanceTimersByTimeAsync(5000);
    expect(expired).toEqual([]);
  });
});
