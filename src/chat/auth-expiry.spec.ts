import { afterEach, beforeEach, expect, it, jest } from '@jest/globals';
import { AuthExpiry } from './auth-expiry.js';
import type { ChatSocket } from './socket-handlers.js';

const T0 = Date.UTC(2026, 0, 1);

beforeEach(() => {
  jest.useFakeTimers({ now: T0 });
});
afterEach(() => {
  jest.useRealTimers();
});

/** Connected sockets by name; `exp` in seconds after T0. */
function setup() {
  const connected = new Map<string, ChatSocket>();
  const expired: string[] = [];
  const expiry = new AuthExpiry(
    () => connected.values(),
    (s) => {
      expired.push(s.id);
      connected.delete(s.id);
    },
  );
  const connect = (id: string, exp: number): void => {
    const socket = { id, data: { exp: T0 / 1000 + exp } } as unknown as ChatSocket;
    connected.set(id, socket);
    expiry.track(socket);
  };
  return { connected, expired, expiry, connect };
}

it('tells every socket at its own expiry, earliest first, with one timer', () => {
  const { expired, connect } = setup();
  connect('c', 30);
  connect('a', 10);
  connect('b', 20);
  connect('b2', 20);
  expect(jest.getTimerCount()).toBe(1);
  jest.advanceTimersByTime(9_999);
  expect(expired).toEqual([]);
  jest.advanceTimersByTime(1);
  expect(expired).toEqual(['a']);
  jest.advanceTimersByTime(10_000);
  expect(expired).toEqual(['a', 'b', 'b2']);
  jest.advanceTimersByTime(10_000);
  expect(expired).toEqual(['a', 'b', 'b2', 'c']);
  expect(jest.getTimerCount()).toBe(0);
});

it('a later socket with an earlier expiry moves the timer forward', () => {
  const { expired, connect } = setup();
  connect('late', 60);
  jest.advanceTimersByTime(1_000);
  connect('soon', 5);
  jest.advanceTimersByTime(4_000);
  expect(expired).toEqual(['soon']);
  jest.advanceTimersByTime(55_000);
  expect(expired).toEqual(['soon', 'late']);
});

it('a socket gone before its expiry is not told; an already expired one is told at once', () => {
  const { connected, expired, connect } = setup();
  connect('gone', 5);
  connect('stays', 8);
  connected.delete('gone');
  jest.advanceTimersByTime(8_000);
  expect(expired).toEqual(['stays']);
  connect('past', -1);
  jest.advanceTimersByTime(0);
  expect(expired).toEqual(['stays', 'past']);
});

it('stop clears the timer', () => {
  const { expired, expiry, connect } = setup();
  connect('a', 1);
  expiry.stop();
  jest.advanceTimersByTime(5_000);
  expect(expired).toEqual([]);
  expect(jest.getTimerCount()).toBe(0);
});
