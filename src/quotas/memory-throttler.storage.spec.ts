import { MemoryThrottlerStorage } from './memory-throttler.storage.js';

describe('MemoryThrottlerStorage', () => {
  let storage: MemoryThrottlerStorage;
  let now: number;
  beforeEach(() => {
    storage = new MemoryThrottlerStorage();
    now = 1_000_000;
    storage.now = () => now;
  });
  afterEach(() => storage.close());

  it('blockedFor reads the block without counting a hit', async () => {
    expect(await storage.blockedFor('u', 'messages')).toBe(0);
    for (let i = 0; i < 2; i++) {
      expect((await storage.increment('u', 60_000, 2, 60_000, 'messages')).isBlocked).toBe(false);
      expect(await storage.blockedFor('u', 'messages')).toBe(0);
    }
    // Peeking any number of times leaves the window as it was: the third hit is the one over.
    for (let i = 0; i < 5; i++) await storage.blockedFor('u', 'messages');
    const over = await storage.increment('u', 60_000, 2, 60_000, 'messages');
    expect(over.isBlocked).toBe(true);
    now += 10_000;
    expect(await storage.blockedFor('u', 'messages')).toBe(50_000);
    // Another kind, another key.
    expect(await storage.blockedFor('u', 'sessions')).toBe(0);
    now += 50_000;
    expect(await storage.blockedFor('u', 'messages')).toBe(0);
  });
});
